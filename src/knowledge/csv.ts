/** A small RFC 4180 CSV reader (quoted fields, doubled quotes, line breaks inside quotes), since no CSV package is installed. */

/** One record with the line of the file it starts on (1-based; a quoted field may span lines). */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** Something the reader could not make sense of, with its line. */
export interface CsvProblem {
  line: number;
  message: string;
}

/**
 * Reads CSV text: comma-separated, fields optionally in double quotes, `""` for a quote inside
 * a quoted field, CRLF or LF line ends, an optional UTF-8 BOM. Blank lines are skipped. A quote
 * inside an unquoted field is kept as it is (spreadsheets write such files); text after a
 * closing quote and an unclosed quote are problems.
 */
export function parseCsv(text: string): { records: CsvRecord[]; problems: CsvProblem[] } {
  const src = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  let line = 1;
  let i = 0;
  while (i < src.length) {
    const startLine = line;
    const fields: string[] = [];
    let bad: string | undefined;
    // One record: fields until an unquoted line end or the end of the text.
    for (;;) {
      let value = '';
      if (src[i] === '"') {
        i++;
        let closed = false;
        while (i < src.length) {
          const ch = src[i];
          if (ch === '"') {
            if (src[i + 1] === '"') {
              value += '"';
              i += 2;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (ch === '\n') line++;
          value += ch;
          i++;
        }
        if (!closed) {
          bad ??= 'a quoted field is not closed';
        } else if (i < src.length && src[i] !== ',' && src[i] !== '\n' && src[i] !== '\r') {
          bad ??= 'text after a closing quote (write "" for a quote inside a quoted field)';
          while (i < src.length && src[i] !== ',' && src[i] !== '\n' && src[i] !== '\r') value += src[i++];
        }
      } else {
        while (i < src.length && src[i] !== ',' && src[i] !== '\n' && src[i] !== '\r') value += src[i++];
      }
      fields.push(value);
      if (src[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    if (src[i] === '\r') i++;
    if (src[i] === '\n') i++;
    const blank = fields.length === 1 && fields[0] === '';
    if (bad) problems.push({ line: startLine, message: bad });
    else if (!blank) records.push({ line: startLine, fields });
    line++;
  }
  return { records, problems };
}
