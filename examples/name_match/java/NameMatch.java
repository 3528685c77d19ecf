package examples.namematch;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import manta.Manta;
import manta.MantaException;
import manta.ObjectRef;
import manta.Options;

/**
 * name_match in Java: the same search as the C driver (examples/name_match,
 * docs/name_match.md), through manta's Java binding. It loads the C module
 * name_match_module.so and calls its functions by name: one
 * name_match.build_chunk per chunk of reference names, whose ref every
 * search of that chunk takes; one name_match.top_k per (query batch, chunk),
 * the searches of a batch chained through their prior argument. The matches
 * it writes are byte for byte those of name_match on the same input.
 *
 * <pre>
 * java -cp manta.jar:name-match.jar examples.namematch.NameMatch REFERENCE.csv QUERIES.csv
 * </pre>
 *
 * (or the name_match_java script the build writes beside the jar).
 */
public final class NameMatch {
  private static final String PROG = NameMatchOptions.PROG;

  /** A failure while running: exit status 1 with this message. */
  private static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    Failure(String message) {
      super(message);
    }
  }

  /** One match of a query: its reference row (0-based), distance, similarity. */
  private record Match(long row, long distance, double similarity) {}

  /** The answer order: distance, then the earlier row. */
  private static final Comparator<Match> BEST_FIRST =
      Comparator.<Match>comparingLong(Match::distance).thenComparingLong(Match::row);

  private NameMatch() {}

  public static void main(String[] args) {
    int status;
    try {
      status = run(args);
    } catch (NameMatchOptions.Usage | CsvColumn.BadInput e) {
      System.err.println(PROG + ": " + e.getMessage());
      status = 2;
    } catch (Failure e) {
      System.err.println(PROG + ": " + e.getMessage());
      status = 1;
    }
    System.exit(status);
  }

  private static int run(String[] args) throws NameMatchOptions.Usage, CsvColumn.BadInput, Failure {
    NameMatchOptions c = NameMatchOptions.parse(args);
    if (c == null) {
      return 0; // --help
    }
    long t0 = System.nanoTime();
    boolean header = !c.noHeader;
    CsvColumn refs = CsvColumn.read(c.refPath, c.refColumn, header, c.separator);
    CsvColumn queries = CsvColumn.read(c.queryPath, c.queryColumn, header, c.separator);
    if (refs.count == 0) {
      throw new CsvColumn.BadInput(c.refPath + " has no reference names");
    }
    if (queries.count == 0) {
      throw new CsvColumn.BadInput(c.queryPath + " has no query names");
    }
    // A path that cannot be written is found before the work, not after.
    OutputStream out;
    try {
      out = new BufferedOutputStream(
          c.output != null ? Files.newOutputStream(Paths.get(c.output)) : System.out, 1 << 16);
    } catch (IOException e) {
      throw new NameMatchOptions.Usage("cannot write '" + c.output + "': " + CsvColumn.reason(e));
    }
    if (!c.quiet) {
      System.err.printf(
          "%s: %d reference names (column '%s'), %d queries (column '%s'), read in %.2f s;"
              + " k=%d, normalize=%s, kernel=%s%n",
          PROG, refs.count, refs.title, queries.count, queries.title,
          (System.nanoTime() - t0) / 1e9, c.k, c.normalize, c.kernel);
    }
    Options options = new Options();
    if (c.cpus > 0) {
      options.numCpus(c.cpus);
    }
    if (c.address != null) {
      options.address(c.address);
    }
    int tasks = ((refs.count + c.chunkSize - 1) / c.chunkSize)
        * ((queries.count + c.batchSize - 1) / c.batchSize);
    List<List<Match>> best;
    double seconds;
    Manta runtime = start(options, c);
    try {
      long t1 = System.nanoTime();
      best = search(c, refs, queries);
      seconds = (System.nanoTime() - t1) / 1e9;
    } finally {
      runtime.close();
    }
    if (!c.quiet) {
      System.err.printf("%s: manta, %d tasks: %d queries in %.2f s = %.1f queries/s%n", PROG, tasks,
          queries.count, seconds, queries.count / seconds);
    }
    try {
      write(out, refs, queries, best);
      out.close();
    } catch (IOException e) {
      throw new Failure("writing the matches failed: " + e.getMessage());
    }
    return 0;
  }

  private static Manta start(Options options, NameMatchOptions c) throws Failure {
    Manta runtime;
    try {
      runtime = Manta.init(options);
    } catch (MantaException e) {
      String env = System.getenv("MANTA_ADDRESS");
      String where = c.address != null ? c.address : env != null && !env.isEmpty() ? env : null;
      throw new Failure(
          (where != null ? "cannot join the manta cluster at " + where : "cannot start manta")
          + ": " + e.getMessage());
    }
    try {
      Manta.loadModule(c.module);
    } catch (MantaException e) {
      runtime.close();
      throw new Failure("cannot load the module '" + c.module + "': " + e.getMessage());
    }
    return runtime;
  }

  /**
   * Names [first, first + n) as build_chunk takes them: packed in one byte
   * array, each followed by a NUL; a list of byte arrays if a name holds a
   * NUL itself.
   */
  private static Object chunkNames(CsvColumn in, int first, int n) {
    int size = 0;
    for (int i = first; i < first + n; i++) {
      for (int j = in.start[i]; j < in.start[i] + in.len[i]; j++) {
        if (in.text[j] == 0) {
          return nameList(in, first, n);
        }
      }
      size += in.len[i] + 1;
    }
    byte[] packed = new byte[size];
    int p = 0;
    for (int i = first; i < first + n; i++) {
      System.arraycopy(in.text, in.start[i], packed, p, in.len[i]);
      p += in.len[i] + 1;
    }
    return packed;
  }

  /** Names as byte arrays: the module reads them as written, UTF-8 or not. */
  private static List<byte[]> nameList(CsvColumn in, int first, int n) {
    List<byte[]> list = new ArrayList<>(n);
    for (int i = first; i < first + n; i++) {
      list.add(in.value(i));
    }
    return list;
  }

  /** The searches, submitted and collected; per query its matches, best first. */
  private static List<List<Match>> search(NameMatchOptions c, CsvColumn refs, CsvColumn queries)
      throws Failure {
    int nchunks = (refs.count + c.chunkSize - 1) / c.chunkSize;
    int nbatches = (queries.count + c.batchSize - 1) / c.batchSize;
    List<ObjectRef<byte[]>> chunks = new ArrayList<>(nchunks);
    List<ObjectRef<List<Object>>> answers = new ArrayList<>(nbatches);
    Map<String, Object> searchOptions = new LinkedHashMap<>();
    if (c.maxDistance >= 0) {
      searchOptions.put("max_distance", c.maxDistance);
    }
    searchOptions.put("kernel", c.kernel);
    try {
      for (int ch = 0; ch < nchunks; ch++) {
        int first = ch * c.chunkSize;
        int n = Math.min(c.chunkSize, refs.count - first);
        chunks.add(Manta.function("name_match.build_chunk")
                       .remote(chunkNames(refs, first, n), (long) first, c.normalize));
      }
      for (int b = 0; b < nbatches; b++) {
        int first = b * c.batchSize;
        List<byte[]> batch = nameList(queries, first, Math.min(c.batchSize, queries.count - first));
        ObjectRef<List<Object>> prior = null;
        for (int ch = 0; ch < nchunks; ch++) {
          ObjectRef<List<Object>> next =
              Manta.function("name_match.top_k")
                  .remote(batch, chunks.get(ch), (long) c.k, searchOptions, prior);
          // The next search holds it now, as the searches hold the chunks.
          if (prior != null) {
            prior.close();
          }
          prior = next;
        }
        answers.add(prior);
      }
    } catch (MantaException e) {
      throw new Failure("submitting a task failed: " + describe(e));
    } finally {
      chunks.forEach(ObjectRef::close);
    }
    List<List<Match>> best = new ArrayList<>(queries.count);
    for (int b = 0; b < nbatches; b++) {
      int nq = Math.min(c.batchSize, queries.count - b * c.batchSize);
      Object v;
      try (ObjectRef<List<Object>> answer = answers.get(b)) {
        v = answer.get();
      } catch (MantaException e) {
        // A failure anywhere in a chain ends up here, as the cause.
        throw new Failure("a search failed: " + describe(e));
      }
      best.addAll(readAnswer(v, nq, c.k, refs.count));
    }
    return best;
  }

  /** The error and its causes, as manta_value_repr shows them in C. */
  private static String describe(MantaException e) {
    StringBuilder sb = new StringBuilder(e.getMessage());
    for (MantaException cause = e.errorCause(); cause != null; cause = cause.errorCause()) {
      sb.append(" <- ").append(cause.getMessage());
    }
    return sb.toString();
  }

  /**
   * Reads the answer of a chain's last search for nq queries: per query a
   * list of [row, distance, similarity], merged best first into at most k.
   * Rows are checked against the reference names: they index the driver's
   * own.
   */
  private static List<List<Match>> readAnswer(Object v, int nq, int k, int nrefs) throws Failure {
    if (!(v instanceof List) || ((List<?>) v).size() != nq) {
      throw new Failure("name_match.top_k gave a bad answer: a top_k result for " + nq
          + " queries is a list of " + nq + " lists");
    }
    List<List<Match>> out = new ArrayList<>(nq);
    int q = 0;
    for (Object matches : (List<?>) v) {
      if (!(matches instanceof List)) {
        throw new Failure(
            "name_match.top_k gave a bad answer: answer " + q + " of a top_k result is not a list");
      }
      List<Match> one = new ArrayList<>();
      int i = 0;
      for (Object m : (List<?>) matches) {
        Match read = readMatch(m, nrefs);
        if (read == null) {
          throw new Failure("name_match.top_k gave a bad answer: match " + i + " of query " + q
              + ", " + m + ", is not [row, distance, similarity] with a row below " + nrefs);
        }
        one.add(read);
        i++;
      }
      one.sort(BEST_FIRST);
      out.add(one.size() > k ? new ArrayList<>(one.subList(0, k)) : one);
      q++;
    }
    return out;
  }

  private static Match readMatch(Object m, int nrefs) {
    if (!(m instanceof List) || ((List<?>) m).size() < 3) {
      return null;
    }
    List<?> l = (List<?>) m;
    if (!(l.get(0) instanceof Long) || !(l.get(1) instanceof Long)
        || !(l.get(2) instanceof Double)) {
      return null;
    }
    long row = (Long) l.get(0);
    long distance = (Long) l.get(1);
    double similarity = (Double) l.get(2);
    if (row < 0 || row >= nrefs || distance < 0 || distance > 0xFFFFFFFFL - 2
        || !Double.isFinite(similarity)) {
      return null;
    }
    return new Match(row, distance, similarity);
  }

  /**
   * The CSV of nm_output.c: a header, then each query's matches best first;
   * a query without any gets one row with the match fields empty. Rows are
   * 1-based; similarity has 4 decimals, rounded from the double's exact
   * value, half to even, as C's printf("%.4f") does.
   */
  private static void write(OutputStream out, CsvColumn refs, CsvColumn queries,
      List<List<Match>> best) throws IOException {
    out.write(ascii("query_row,query,rank,match_row,match,distance,similarity\n"));
    for (int q = 0; q < queries.count; q++) {
      List<Match> matches = best.get(q);
      byte[] row = ascii((q + 1) + ",");
      if (matches.isEmpty()) {
        out.write(row);
        CsvColumn.writeField(out, queries.text, queries.start[q], queries.len[q]);
        out.write(ascii(",,,,,\n"));
      }
      int rank = 1;
      for (Match m : matches) {
        out.write(row);
        CsvColumn.writeField(out, queries.text, queries.start[q], queries.len[q]);
        out.write(ascii("," + rank++ + "," + (m.row() + 1) + ","));
        int r = (int) m.row();
        CsvColumn.writeField(out, refs.text, refs.start[r], refs.len[r]);
        BigDecimal similarity = new BigDecimal(m.similarity()).setScale(4, RoundingMode.HALF_EVEN);
        out.write(ascii("," + m.distance() + "," + similarity.toPlainString() + "\n"));
      }
    }
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
