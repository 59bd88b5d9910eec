import { request } from "node:http";

export interface HttpAnswer {
  status: number;
  body: string;
}

/**
 * One HTTP request on a connection of its own, closed afterwards. Keep-alive is off on purpose:
 * Patroni's REST server joins its handler threads on shutdown, so a poller holding a keep-alive
 * connection open keeps a SIGTERMed Patroni from ever exiting.
 */
export function httpRequest(
  url: string,
  options: { method?: string; body?: string; timeoutMs: number },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? "GET",
        agent: false,
        headers: {
          connection: "close",
          ...(options.body === undefined ? {} : { "content-type": "application/json" }),
        },
        timeout: options.timeoutMs,
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        response.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${url} within ${options.timeoutMs} ms`)));
    req.on("error", reject);
    req.end(options.body);
  });
}
