/** The HTTP request as the handlers see it, whatever server carries it (node:http, functions-framework). */
export interface HttpRequest {
  method: string;
  /** Path without the query string, percent-encoded as received. */
  path: string;
  /** The raw query string, without the leading `?`. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | null;
}

export type Body = string | Buffer | AsyncIterable<string | Buffer> | null;

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: Body;
}

export type Handler = (req: HttpRequest) => Promise<HttpResponse>;

export function header(req: HttpRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}
