package examples.dbaggregate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import manta.ActorHandle;
import manta.Manta;
import manta.ObjectRef;
import manta.Options;

/**
 * The seed's database aggregation driven from Java (docs/db_actors.md): the two aggregations of
 * db_aggregate.c (every movie, every comment) on one JDBC connection without manta, then at once in
 * two actors of a class of either language: "Aggregator" (C, from the module given) or
 * "JdbcAggregator" (this folder). Prints what the C driver prints. The data must be loaded
 * (db_aggregate --load-only).
 *
 * <pre>
 * pg_cluster.sh run -- java -cp manta.jar:db-aggregate.jar:postgresql.jar:gson.jar \
 *     examples.dbaggregate.DbAggregate --module db_aggregate_module.so [--class NAME]
 * [--rendezvous]
 * </pre>
 */
public final class DbAggregate {
  private DbAggregate() {}

  /* The seed's pair, as in db_aggregate.c. */
  private static final String[][] QUICK = {
      {"movies",
          "SELECT id, title, year, runtime, rated, imdb_rating, genres, awards, poster, series"
              + " FROM {table}"},
      {"comments", "SELECT id, movie_id, name, email, text, date FROM {table}"}};
  private static final int REPEAT = 3;
  private static int round; // a rendezvous tag per round: a session never reuses one

  public static void main(String[] argv) throws Exception {
    List<String> args = Arrays.asList(argv);
    String module = value(args, "--module", null);
    String cls = value(args, "--class", "Aggregator");
    String conninfo = value(args, "--conninfo", System.getenv("MANTA_PG_CONNINFO"));
    boolean rendezvous = args.contains("--rendezvous");
    if (module == null || conninfo == null) {
      System.err.println(
          "usage: DbAggregate --module db_aggregate_module.so [--class NAME] [--rendezvous]"
          + " [--conninfo S] (or MANTA_PG_CONNINFO, as pg_cluster.sh sets)");
      System.exit(2);
    }
    try (Manta runtime = Manta.init(new Options().resource("db_conn", 2))) {
      Manta.loadModule(module);
      new DbAggregateModule().register();
      JdbcAggregator plain = new JdbcAggregator(conninfo);
      long[] seqRows = new long[2];
      long[] parRows = new long[2];
      long[] peers = new long[2];
      double[] seq = new double[REPEAT];
      double[] par = new double[REPEAT];
      sequential(plain, seqRows); // warm-up, untimed
      for (int r = 0; r < REPEAT; r++) {
        seq[r] = sequential(plain, seqRows);
        par[r] = parallel(cls, conninfo, rendezvous, parRows, peers);
      }
      Arrays.sort(seq);
      Arrays.sort(par);
      double s = seq[REPEAT / 2];
      double p = par[REPEAT / 2];
      System.out.printf(
          "sequential (one JDBC connection, no actors): movies %d rows, comments %d rows: %d rows"
              + " in %.3f s%n",
          seqRows[0], seqRows[1], seqRows[0] + seqRows[1], s);
      System.out.printf(
          "parallel (2 %s actors, a connection each, called from Java): movies %d rows, comments"
              + " %d rows: %d rows in %.3f s%n",
          cls, parRows[0], parRows[1], parRows[0] + parRows[1], p);
      System.out.printf("(medians of %d rounds, after one warm-up pass)%n", REPEAT);
      if (rendezvous) {
        System.out.printf(
            "overlap: both aggregations were running in the server at once (dbagg_rendezvous saw"
                + " %d and %d of 2)%n",
            peers[0], peers[1]);
      }
      if (!Arrays.equals(seqRows, parRows)) {
        System.err.println("DbAggregate: the two runs returned different row counts");
        System.exit(1);
      }
      System.out.printf(
          "faster: %s, by %.2fx%n", p < s ? "parallel" : "sequential", p < s ? s / p : p / s);
    }
  }

  private static String value(List<String> args, String flag, String fallback) {
    int i = args.indexOf(flag);
    return i >= 0 && i + 1 < args.size() ? args.get(i + 1) : fallback;
  }

  private static double sequential(JdbcAggregator plain, long[] rows) throws Exception {
    long t0 = System.nanoTime();
    for (int i = 0; i < 2; i++) {
      rows[i] = count(plain.aggregate(QUICK[i][0], QUICK[i][1]));
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  private static double parallel(
      String cls, String conninfo, boolean rendezvous, long[] rows, long[] peers) {
    long t0 = System.nanoTime();
    List<ActorHandle> actors = new ArrayList<>();
    List<ObjectRef<List<Object>>> refs = new ArrayList<>();
    String tag = "java" + ProcessHandle.current().pid() + "." + round++;
    for (int i = 0; i < 2; i++) {
      ActorHandle a = Manta.actor(cls).remote(conninfo);
      actors.add(a);
      String sql = QUICK[i][1];
      if (rendezvous) {
        sql = "WITH dbagg_r AS MATERIALIZED (SELECT dbagg_rendezvous('" + tag
            + "', 2, 60) AS peers) SELECT q.*, dbagg_r.peers FROM dbagg_r, (" + sql + ") q";
      }
      refs.add(a.call("aggregate", QUICK[i][0], sql));
    }
    List<List<Object>> out = Manta.get(refs);
    double seconds = (System.nanoTime() - t0) / 1e9;
    for (int i = 0; i < 2; i++) {
      rows[i] = out.get(i).size();
      if (rendezvous && !out.get(i).isEmpty()) {
        peers[i] = (Long) ((Map<?, ?>) out.get(i).get(0)).get("peers");
      }
    }
    actors.forEach(ActorHandle::close);
    return seconds;
  }

  private static long count(Object rows) {
    if (rows instanceof RuntimeException) {
      throw(RuntimeException) rows;
    }
    return ((List<?>) rows).size();
  }
}
