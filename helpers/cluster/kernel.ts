// What the kernel says about a container's network namespace, read from /proc inside it with
// `cat` (which the fixture contract allows). Unlike /etc/hosts, which the kubelet writes,
// these files describe the namespace the process really runs in.

/** Local IPv4 addresses of the namespace, from /proc/net/fib_trie ("/32 host LOCAL" entries). */
export function localAddresses(fibTrie: string): string[] {
  const found = new Set<string>();
  let last: string | undefined;
  for (const line of fibTrie.split('\n')) {
    const leaf = /\|--\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf) last = leaf[1];
    else if (last && /\/32 host LOCAL/.test(line)) found.add(last);
  }
  return [...found];
}

/** TCP ports in LISTEN state, from /proc/net/tcp and /proc/net/tcp6. */
export function listeningPorts(procNetTcp: string): number[] {
  const ports = new Set<number>();
  for (const line of procNetTcp.split('\n')) {
    const m = /^\s*\d+:\s+[0-9A-F]+:([0-9A-F]{4})\s+[0-9A-F]+:[0-9A-F]{4}\s+0A\s/i.exec(line);
    if (m) ports.add(Number.parseInt(m[1]!, 16));
  }
  return [...ports];
}

/** `cat` of the files above, as run in a container: missing tcp6 (no IPv6) is not an error. */
export const READ_FIB_TRIE = ['cat', '/proc/net/fib_trie'];
export const READ_TCP_SOCKETS = ['sh', '-c', 'cat /proc/net/tcp; cat /proc/net/tcp6 2>/dev/null; true'];
