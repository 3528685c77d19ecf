package examples.namematch;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One column of a CSV file as bytes, read exactly as the C driver reads it
 * (nm_csv.c): RFC 4180 with a chosen separator, quoted fields holding
 * separators, line breaks and doubled quotes, LF or CRLF, a UTF-8 byte order
 * mark skipped, blank lines skipped. The values stay bytes, so a name that
 * is not valid UTF-8 is matched and written back unchanged, as in C.
 */
final class CsvColumn {
  /** Bad input: the message names the file, the line and what is wrong. */
  static final class BadInput extends Exception {
    private static final long serialVersionUID = 1L;

    BadInput(String message) {
      super(message);
    }
  }

  /** Every value, one after another; value i is text[start[i] .. +len[i]]. */
  final byte[] text;

  final int[] start;
  final int[] len;
  final int count;
  /** The column's header name, or "column N" without a header. */
  final String title;

  private CsvColumn(byte[] text, int[] start, int[] len, int count, String title) {
    this.text = text;
    this.start = start;
    this.len = len;
    this.count = count;
    this.title = title;
  }

  byte[] value(int i) {
    return Arrays.copyOfRange(text, start[i], start[i] + len[i]);
  }

  /**
   * Reads the column of every record. column is a header name (any ASCII
   * case), a 1-based number, or null: the column "name" if the header has
   * one, else the first.
   */
  static CsvColumn read(String path, String column, boolean header, byte separator)
      throws BadInput {
    byte[] data;
    try {
      data = Files.readAllBytes(Paths.get(path));
    } catch (NoSuchFileException | AccessDeniedException e) {
      throw new BadInput("cannot open '" + path + "': " + reason(e));
    } catch (IOException e) {
      throw new BadInput("cannot read '" + path + "': " + reason(e));
    } catch (OutOfMemoryError e) {
      throw new BadInput("cannot read '" + path + "': out of memory");
    }
    Parser ps = new Parser(data, path, separator);
    if (data.length >= 3 && (data[0] & 0xff) == 0xEF && (data[1] & 0xff) == 0xBB
        && (data[2] & 0xff) == 0xBF) {
      ps.pos = 3;
    }
    boolean got = ps.nextRecord();
    if (!got && header) {
      throw new BadInput(path + ": empty file (no header)");
    }
    int col = 0;
    if (got) {
      col = ps.pickColumn(column, header);
      if (header) {
        got = ps.nextRecord();
      }
    }
    String title = ps.title != null ? ps.title : "column " + (col + 1);
    // Values never take more room than the file: one buffer for all.
    byte[] text = new byte[data.length];
    int[] start = new int[1024];
    int[] len = new int[1024];
    int count = 0;
    int used = 0;
    while (got) {
      if (col >= ps.nfields) {
        throw new BadInput(
            String.format("%s line %d: %d field%s, but the names are in column %d (%s)", path,
                ps.recLine, ps.nfields, ps.nfields == 1 ? "" : "s", col + 1, title));
      }
      if (count == start.length) {
        start = Arrays.copyOf(start, count * 2);
        len = Arrays.copyOf(len, count * 2);
      }
      int n = ps.fieldValue(col, text, used);
      start[count] = used;
      len[count] = n;
      count++;
      used += n;
      got = ps.nextRecord();
    }
    return new CsvColumn(text, start, len, count, title);
  }

  /** Why a file could not be opened, read or written, as strerror says it. */
  static String reason(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "No such file or directory";
    }
    if (e instanceof AccessDeniedException) {
      return "Permission denied";
    }
    if (e instanceof FileSystemException && ((FileSystemException) e).getReason() != null) {
      return ((FileSystemException) e).getReason();
    }
    return e.getMessage();
  }

  /** Writes one field, quoted if it holds a comma, quote or line break. */
  static void writeField(OutputStream out, byte[] s, int off, int n) throws IOException {
    boolean quote = false;
    for (int i = off; i < off + n && !quote; i++) {
      quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    }
    if (!quote) {
      out.write(s, off, n);
      return;
    }
    out.write('"');
    for (int i = off; i < off + n; i++) {
      if (s[i] == '"') {
        out.write('"');
      }
      out.write(s[i]);
    }
    out.write('"');
  }

  /** The record reader: where it is, and the fields of the last record. */
  private static final class Parser {
    final byte[] b;
    final String path;
    final byte sep;
    int pos;
    int line = 1; // where the parser is, 1-based
    int recLine; // where the last record read starts
    int[] fieldStart = new int[16];
    int[] fieldLen = new int[16];
    boolean[] fieldQuoted = new boolean[16];
    int nfields;
    String title; // the header name of the column, when picked by name

    Parser(byte[] b, String path, byte sep) {
      this.b = b;
      this.path = path;
      this.sep = sep;
    }

    /** Reads the next non-blank record; false at the end. */
    boolean nextRecord() throws BadInput {
      int n = b.length;
      for (;;) { // blank lines
        if (pos < n && b[pos] == '\n') {
          pos++;
          line++;
        } else if (pos + 1 < n && b[pos] == '\r' && b[pos + 1] == '\n') {
          pos += 2;
          line++;
        } else {
          break;
        }
      }
      if (pos >= n) {
        return false;
      }
      nfields = 0;
      int startLine = recLine = line;
      for (;;) {
        int s = pos;
        boolean quoted = s < n && b[s] == '"';
        int e;
        if (quoted) {
          e = s + 1;
          for (;;) {
            if (e >= n) {
              throw new BadInput(path + " line " + startLine + ": a quoted field is never closed");
            }
            if (b[e] == '"') {
              if (e + 1 < n && b[e + 1] == '"') {
                e += 2;
                continue;
              }
              e++;
              break;
            }
            if (b[e] == '\n') {
              line++;
            }
            e++;
          }
          if (e < n && b[e] != sep && b[e] != '\n'
              && !(b[e] == '\r' && e + 1 < n && b[e + 1] == '\n')
              && !(b[e] == '\r' && e + 1 == n)) {
            throw new BadInput(path + " line " + line + ": text after a closing quote");
          }
        } else {
          e = s;
          while (e < n && b[e] != sep && b[e] != '\n') {
            e++;
          }
        }
        int flen = e - s;
        // A CR before the LF ending the record belongs to the line break.
        boolean atEol =
            e >= n || b[e] == '\n' || (b[e] == '\r' && (e + 1 == n || b[e + 1] == '\n'));
        if (!quoted && flen > 0 && b[e - 1] == '\r' && (e == n || b[e] == '\n')) {
          flen--;
        }
        pushField(s, flen, quoted);
        if (!atEol && e < n && b[e] == sep) {
          pos = e + 1;
          continue;
        }
        while (e < n && b[e] != '\n') {
          e++; // the CR of a quoted field's CRLF
        }
        pos = e < n ? e + 1 : e;
        line++;
        return true;
      }
    }

    private void pushField(int s, int n, boolean quoted) {
      if (nfields == fieldStart.length) {
        fieldStart = Arrays.copyOf(fieldStart, nfields * 2);
        fieldLen = Arrays.copyOf(fieldLen, nfields * 2);
        fieldQuoted = Arrays.copyOf(fieldQuoted, nfields * 2);
      }
      fieldStart[nfields] = s;
      fieldLen[nfields] = n;
      fieldQuoted[nfields] = quoted;
      nfields++;
    }

    /** Copies field i's value (unquoted, "" made ") to out; its length. */
    int fieldValue(int i, byte[] out, int at) {
      int s = fieldStart[i];
      int n = fieldLen[i];
      if (!fieldQuoted[i]) {
        System.arraycopy(b, s, out, at, n);
        return n;
      }
      int w = 0;
      for (int j = 1; j + 1 < n; j++) {
        out[at + w++] = b[s + j];
        if (b[s + j] == '"') {
          j++; // the second quote of a pair
        }
      }
      return w;
    }

    byte[] fieldBytes(int i) {
      byte[] out = new byte[fieldLen[i]];
      return Arrays.copyOf(out, fieldValue(i, out, 0));
    }

    String fieldText(int i) {
      return new String(fieldBytes(i), StandardCharsets.UTF_8);
    }

    /** Which field holds the names, from the first record. */
    int pickColumn(String want, boolean header) throws BadInput {
      if (want != null && !want.isEmpty() && want.chars().allMatch(c -> c >= '0' && c <= '9')) {
        long n;
        try {
          n = Long.parseLong(want);
        } catch (NumberFormatException tooLong) {
          n = Long.MAX_VALUE;
        }
        if (n < 1 || (header && n > nfields)) {
          throw new BadInput(path + ": no column " + want + " (the header has " + nfields + ")");
        }
        if (n > Integer.MAX_VALUE) {
          throw new BadInput(path + ": no column " + want);
        }
        return (int) n - 1;
      }
      if (want != null && !header) {
        throw new BadInput(path + ": column '" + want
            + "' is a name, but the file has no header (give a column number)");
      }
      if (!header) {
        return 0;
      }
      byte[] wanted = (want != null ? want : "name").getBytes(StandardCharsets.UTF_8);
      List<String> listed = new ArrayList<>();
      int found = -1;
      for (int i = 0; i < nfields; i++) {
        byte[] name = fieldBytes(i);
        if (found < 0 && sameIgnoringAsciiCase(name, wanted)) {
          found = i;
          title = new String(name, StandardCharsets.UTF_8);
        }
        listed.add(new String(name, StandardCharsets.UTF_8));
      }
      if (found < 0 && want == null) {
        found = 0; // no "name" column: the first
        title = fieldText(0);
      }
      if (found < 0) {
        throw new BadInput(path + ": no column '" + want
            + "' in the header (it has: " + String.join(",", listed) + ")");
      }
      return found;
    }

    private static boolean sameIgnoringAsciiCase(byte[] a, byte[] b) {
      if (a.length != b.length) {
        return false;
      }
      for (int i = 0; i < a.length; i++) {
        if (lower(a[i]) != lower(b[i])) {
          return false;
        }
      }
      return true;
    }

    private static int lower(byte c) {
      return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
    }
  }
}
