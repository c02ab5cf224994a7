// Reading `kubectl describe pod` output the way a person does: by field name and indentation.

/** The value of `Field:` at the given indentation (0: pod level, 4: container level). */
export function describeField(text: string, field: string, indent = 0): string | undefined {
  const re = new RegExp(`^ {${indent}}${field.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:[ \\t]*(.*)$`, 'm');
  return re.exec(text)?.[1]?.trim();
}

/** The lines of a section (`Conditions:`, `Volumes:`, `Events:`...) up to the next top-level field. */
export function describeSection(text: string, section: string): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${section}:`));
  if (start < 0) return [];
  const first = lines[start]!.slice(section.length + 1).trim();
  const rest: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (/^\S/.test(l)) break;
    rest.push(l);
  }
  return [first, ...rest].filter((l) => l.trim() !== '');
}

/** The lines under `Field:` at the given indentation, up to the next line indented as little. */
export function describeBlock(text: string, field: string, indent: number): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`${' '.repeat(indent)}${field}:`));
  if (start < 0) return [];
  const rest: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.trim() !== '' && l.length - l.trimStart().length <= indent) break;
    rest.push(l.trim());
  }
  return rest.filter((l) => l !== '');
}
