// A loopback port on which nothing listens (taken and released at once): a server that is down,
// refused at once instead of waited for.
import { createServer, type AddressInfo } from "node:net";

export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export const closedUrl = async (): Promise<string> => `http://127.0.0.1:${await closedPort()}`;
