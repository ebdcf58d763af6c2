/** The env file lines both tiers try: read the same by dotenv and systemd, or refused (config/env-file.ts). */
export const P = 'PUSHGATEWAY_PASSWORD';

/** Lines read the same by both: what the job (and systemd) reads as the password. */
export const same: [text: string, reads: string | undefined][] = [
  [`${P}=abc\n`, 'abc'],
  [`${P}="abc#def"\n`, 'abc#def'],
  [`${P}='abc#def'\n`, 'abc#def'],
  [`${P}=  spaced value  \n`, 'spaced value'],
  [`${P} = abc\n`, 'abc'],
  [`${P}='a\\b'\n`, 'a\\b'],
  [`${P}="a'b"\n`, "a'b"],
  [`${P}='a"b'\n`, 'a"b'],
  [`${P}=a'b"c\n`, 'a\'b"c'],
  [`${P}=x$y\`z\n`, 'x$y`z'],
  [`${P}=abc\r\nPUSHGATEWAY_USERNAME=u\r\n`, 'abc'],
  [`# comment\r\n${P}="abc#def"\r\n`, 'abc#def'],
  [`${P}='abc'  \t\n`, 'abc'],
  [`${P}=abc`, 'abc'],
  [`# ${P}=commented\n${P}=abc\n`, 'abc'],
  [`; a comment\n  # indented\n\n${P}=abc\n`, 'abc'],
  [`${P}=first\n${P}=second\n`, 'second'],
  [`${P}=\n`, undefined],
  // A comment ending in an even number of \, or in \ before \r\n (which escapes only the \r), hides nothing.
  [`# C:\\temp\\\\\n${P}=abc\n`, 'abc'],
  [`# C:\\temp\\\r\n${P}=abc\r\n`, 'abc'],
  [`\u00a0# not a comment to systemd \\\n${P}=abc\n`, 'abc'],
];

/** Lines the two would read differently: refused, naming the line. */
export const differ: [text: string, line: number, why: RegExp][] = [
  [`${P}=abc#def\n`, 1, /read PUSHGATEWAY_PASSWORD differently: quote the value/],
  [`X=1\n${P}=abc #def\n`, 2, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}=a\\b\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}="a\\"b"\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}="a\\nb"\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}='abc' # note\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}=abc\\\ndef\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`${P}="abc\n`, 1, /read PUSHGATEWAY_PASSWORD differently/],
  [`\n\nexport ${P}=abc\n`, 3, /would not set PUSHGATEWAY_PASSWORD: write NAME=value, without export/],
  [`${P}: abc\n`, 1, /would not set PUSHGATEWAY_PASSWORD/],
  [`${P}=abc\nmy-name=1\n`, 2, /takes no my-name: a name is letters, digits and _$/],
  [`# a comment \\\n${P}=abc\n`, 1, /a comment ending in \\ hides the next line from systemd before version 254/],
  [`; a comment \\\\\\\r${P}=abc\n`, 1, /a comment ending in \\ hides the next line from systemd before version 254/],
  [`\uFEFF${P}=abc\n`, 1, /starts with a byte-order mark/],
];

/** `X=1` on line 1, then `line` on line 2, as bytes. */
export const afterX = (line: string | Buffer) =>
  Buffer.concat([Buffer.from('X=1\n'), Buffer.from(line), Buffer.from('\n')]);

/** Every Unicode noncharacter: U+FDD0–U+FDEF and the last two code points of each of the 17 planes. */
export const noncharacters = [
  ...Array.from({ length: 32 }, (_, index) => 0xfdd0 + index),
  ...Array.from({ length: 17 }, (_, plane) => [plane * 0x10000 + 0xfffe, plane * 0x10000 + 0xffff]).flat(),
];
export const hex = (codePoint: number) => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
