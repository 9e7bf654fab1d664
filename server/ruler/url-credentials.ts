/**
 * Credentials written into a URL (`http://user:pass@host/`), as Prometheus and Loki accept them
 * for Alertmanager and remote-write endpoints: sent as basic auth, and taken out of the URL,
 * which fetch refuses to use with credentials in it.
 */

export interface BasicCredentials {
  username: string;
  password: string;
}

export function basicAuthorization({ username, password }: BasicCredentials): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

/** The URL without its userinfo, and the (percent-decoded) credentials it carried, if any. */
export function splitUrlCredentials(text: string): { url: URL; credentials: BasicCredentials | undefined } {
  const url = new URL(text);
  const credentials =
    url.username !== '' || url.password !== '' ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) } : undefined;
  url.username = '';
  url.password = '';
  return { url, credentials };
}
