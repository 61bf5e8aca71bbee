/**
 * The two UDP sockets of one recording: RTP on an even port, RTCP on the next (RTCP muxed
 * on the RTP port works too). The receive buffer is raised as configured and read back:
 * Linux caps it at net.core.rmem_max without an error, so a silent cap is reported.
 */
import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';

export interface BoundPair {
  readonly rtp: Socket;
  readonly rtcp: Socket;
  readonly port: number;
  /** Effective receive buffer, bytes (what the kernel granted for the RTP socket). */
  readonly recvBufferBytes: number;
  close(): Promise<void>;
}

async function bind(host: string, port: number, recvBufferBytes: number): Promise<Socket> {
  const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', recvBufferSize: recvBufferBytes });
  socket.bind(port, host);
  await Promise.race([
    once(socket, 'listening'),
    once(socket, 'error').then(([error]) => {
      throw error;
    }),
  ]);
  return socket;
}

export async function bindPair(host: string, port: number, recvBufferBytes: number): Promise<BoundPair> {
  const rtp = await bind(host, port, recvBufferBytes);
  let rtcp: Socket;
  try {
    rtcp = await bind(host, port + 1, Math.min(recvBufferBytes, 1024 * 1024));
  } catch (error) {
    rtp.close();
    throw error;
  }
  // Linux reports twice what it granted (it accounts for bookkeeping overhead).
  const granted = Math.floor(rtp.getRecvBufferSize() / 2);
  return {
    rtp,
    rtcp,
    port,
    recvBufferBytes: granted,
    close: async () => {
      await Promise.all([new Promise<void>((r) => rtp.close(() => r())), new Promise<void>((r) => rtcp.close(() => r()))]);
    },
  };
}
