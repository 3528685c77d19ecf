package examples.namematch;

import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;

/**
 * The command line of the Java driver: the C driver's options (name_match
 * --help) that apply to it, with the same defaults, limits and messages.
 */
final class NameMatchOptions {
  static final String PROG = "name_match_java";
  static final String MODULE_FILE = "name_match_module.so";
  /** Largest k (NM_K_MAX of the module). */
  static final int K_MAX = 1000;

  /** A bad option or input: exit status 2 with this message. */
  static final class Usage extends Exception {
    private static final long serialVersionUID = 1L;

    Usage(String message) {
      super(message);
    }
  }

  String refPath;
  String queryPath;
  String refColumn;
  String queryColumn;
  boolean noHeader;
  byte separator = ',';
  int k = 3;
  /** -1: no limit. */
  long maxDistance = -1;

  String normalize = "names";
  String kernel = "auto";
  String output;
  String address;
  String module;
  int chunkSize = 50000;
  int batchSize = 64;
  /** 0: the cores. */
  int cpus;

  boolean quiet;

  static void usage(PrintStream out) {
    out.print("usage: name_match_java [options] REFERENCE.csv QUERIES.csv\n"
        + "\n"
        + "The name_match driver in Java, through manta's Java binding: for every\n"
        + "name of QUERIES.csv, the k names of REFERENCE.csv nearest by edit\n"
        + "distance, searched by the C functions of " + MODULE_FILE + " called by name.\n"
        + "The matches are written as CSV, byte for byte what name_match writes,\n"
        + "  query_row,query,rank,match_row,match,distance,similarity\n"
        + "best first: the smallest distance, then the earliest reference row.\n"
        + "\n"
        + "Matching:\n"
        + "  -k, --k N             matches per query, 1.." + K_MAX + " (default 3)\n"
        + "  --max-distance N      only matches within N edits (default: no limit)\n"
        + "  --normalize MODE      names (default), case or none: as name_match\n"
        + "Input:\n"
        + "  --column COL          the name column of both files: a header name or\n"
        + "                        a 1-based number (default: the column \"name\"\n"
        + "                        if the header has one, else the first)\n"
        + "  --ref-column COL      the name column of REFERENCE.csv (default: --column)\n"
        + "  --query-column COL    the name column of QUERIES.csv (default: --column)\n"
        + "  --no-header           the files have no header line\n"
        + "  --separator C         field separator: one character, or 'tab' (default ,)\n"
        + "Output:\n"
        + "  -o, --output FILE     write the matches to FILE (default: stdout)\n"
        + "  --quiet               no summary lines on stderr\n"
        + "Running:\n"
        + "  --cpus N              CPU slots of the manta node (default: the cores)\n"
        + "  --address HOST:PORT   join the manta cluster there (default: an embedded\n"
        + "                        runtime, or MANTA_ADDRESS if set)\n"
        + "  --module PATH         the module to load (default: " + MODULE_FILE + " next to\n"
        + "                        this program's jar)\n"
        + "  --chunk-size N        reference names per chunk (default 50000)\n"
        + "  --batch-size N        queries per task (default 64)\n"
        + "  --kernel NAME         auto (default), scalar, generic, avx2, avx512\n"
        + "  -h, --help            this text\n"
        + "\n"
        + "Exit status: 0 done, 1 failed while running, 2 bad arguments or input.\n");
  }

  private static long number(String opt, String s, long min, long max) throws Usage {
    boolean ok = s != null && !s.isEmpty() && s.chars().allMatch(c -> c >= '0' && c <= '9');
    long v = 0;
    if (ok) {
      try {
        v = Long.parseLong(s);
        ok = v >= min && v <= max;
      } catch (NumberFormatException tooLong) {
        ok = false;
      }
    }
    if (!ok) {
      throw new Usage(
          opt + " takes a whole number from " + min + " to " + max + ", got '" + s + "'");
    }
    return v;
  }

  /** Parses the arguments; null when --help was given (and printed). */
  static NameMatchOptions parse(String[] argv) throws Usage {
    NameMatchOptions c = new NameMatchOptions();
    String column = null;
    List<String> files = new ArrayList<>();
    for (int i = 0; i < argv.length; i++) {
      String a = argv[i];
      // --opt=value is --opt value
      String value = null;
      int eq = a.startsWith("--") ? a.indexOf('=') : -1;
      if (eq >= 0) {
        value = a.substring(eq + 1);
        a = a.substring(0, eq);
      }
      boolean flag = true;
      switch (a) {
        case "-h":
        case "--help":
          usage(System.out);
          return null;
        case "--no-header":
          c.noHeader = true;
          break;
        case "--quiet":
          c.quiet = true;
          break;
        default:
          flag = false;
      }
      if (flag) {
        if (value != null) {
          throw new Usage(a + " takes no value");
        }
        continue;
      }
      boolean takesValue = true;
      switch (a) {
        case "-k":
        case "--k":
        case "--max-distance":
        case "--normalize":
        case "--column":
        case "--ref-column":
        case "--query-column":
        case "--separator":
        case "-o":
        case "--output":
        case "--cpus":
        case "--address":
        case "--module":
        case "--chunk-size":
        case "--batch-size":
        case "--kernel":
          break;
        default:
          takesValue = false;
      }
      if (!takesValue) {
        if (a.startsWith("-") && a.length() > 1) {
          throw new Usage("unknown option '" + a + "' (try --help)");
        }
        if (files.size() == 2) {
          throw new Usage("one reference file and one query file, not more (extra: '" + a + "')");
        }
        files.add(a);
        continue;
      }
      if (value == null) {
        if (i + 1 >= argv.length) {
          throw new Usage(a + " needs a value (try --help)");
        }
        value = argv[++i];
      }
      switch (a) {
        case "-k":
        case "--k":
          c.k = (int) number("-k", value, 1, K_MAX);
          break;
        case "--max-distance":
          c.maxDistance = number("--max-distance", value, 0, 1000000);
          break;
        case "--normalize":
          if (!value.equals("names") && !value.equals("case") && !value.equals("none")) {
            throw new Usage("--normalize takes names, case or none, got '" + value + "'");
          }
          c.normalize = value;
          break;
        case "--column":
          column = value;
          break;
        case "--ref-column":
          c.refColumn = value;
          break;
        case "--query-column":
          c.queryColumn = value;
          break;
        case "--separator":
          if (value.equals("tab")) {
            c.separator = '\t';
          } else if (value.length() == 1 && value.charAt(0) < 0x80 && value.charAt(0) != '"'
              && value.charAt(0) != '\n') {
            c.separator = (byte) value.charAt(0);
          } else {
            throw new Usage("--separator takes one character or 'tab', got '" + value + "'");
          }
          break;
        case "-o":
        case "--output":
          c.output = value;
          break;
        case "--cpus":
          c.cpus = (int) number("--cpus", value, 1, 4096);
          break;
        case "--address":
          if (value.indexOf(':') < 0) {
            throw new Usage("--address takes HOST:PORT, got '" + value + "'");
          }
          c.address = value;
          break;
        case "--module":
          c.module = value;
          break;
        case "--chunk-size":
          c.chunkSize = (int) number("--chunk-size", value, 1, 100000000);
          break;
        case "--batch-size":
          c.batchSize = (int) number("--batch-size", value, 1, 1000000);
          break;
        case "--kernel":
          if (!List.of("auto", "scalar", "generic", "avx2", "avx512").contains(value)) {
            throw new Usage(
                "--kernel takes auto, scalar, generic, avx2 or avx512, got '" + value + "'");
          }
          c.kernel = value;
          break;
        default:
          throw new IllegalStateException(a);
      }
    }
    if (files.size() != 2) {
      usage(System.err);
      throw new Usage("a reference file and a query file are needed");
    }
    c.refPath = files.get(0);
    c.queryPath = files.get(1);
    if (c.refColumn == null) {
      c.refColumn = column;
    }
    if (c.queryColumn == null) {
      c.queryColumn = column;
    }
    if (c.module == null) {
      c.module = defaultModule();
    }
    if (!Files.isReadable(Paths.get(c.module))) {
      throw new Usage("cannot read the module '" + c.module
          + "' (build the target name_match_module, or give --module PATH)");
    }
    return c;
  }

  /** name_match_module.so in the folder of this program's jar. */
  private static String defaultModule() {
    try {
      Path jar = Paths.get(
          NameMatchOptions.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      Path dir = Files.isDirectory(jar) ? jar : jar.getParent();
      return (dir == null ? Paths.get(MODULE_FILE) : dir.resolve(MODULE_FILE)).toString();
    } catch (URISyntaxException | SecurityException | NullPointerException e) {
      return MODULE_FILE;
    }
  }
}
