package examples.dbaggregate;

import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.google.gson.JsonPrimitive;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import manta.ErrorCode;
import manta.MantaException;
import org.postgresql.PGConnection;
import org.postgresql.util.PSQLException;

/**
 * The Aggregator actor class in Java, over JDBC (docs/db_actors.md): the same constructor, methods,
 * values and errors as the C class "Aggregator" (aggregator.c), so a caller in either language
 * cannot tell them apart but by info()'s "language".
 *
 * <p>The constructor takes a libpq connection string ({@code host=127.0.0.1 port=N dbname=mflix
 * user=manta [password=...]}), so one string serves both classes, and an optional pool size: a
 * connection per method slot, all opened here.
 */
public class JdbcAggregator {
  private static final int POOL_MAX = 64;

  private final String url;
  private final Properties props = new Properties();
  private final Connection[] conns;
  private final BlockingQueue<Integer> free;
  private long calls;
  private long reconnects;

  public JdbcAggregator(String conninfo) throws SQLException {
    this(conninfo, 1);
  }

  public JdbcAggregator(String conninfo, long pool) throws SQLException {
    if (pool < 1 || pool > POOL_MAX) {
      throw new IllegalArgumentException(
          "Aggregator: the pool size must be an int from 1 to " + POOL_MAX);
    }
    Map<String, String> kv = parse(conninfo);
    url = "jdbc:postgresql://" + kv.getOrDefault("host", "127.0.0.1") + ":"
        + kv.getOrDefault("port", "5432") + "/"
        + kv.getOrDefault("dbname", kv.getOrDefault("user", "postgres"));
    if (kv.containsKey("user")) {
      props.setProperty("user", kv.get("user"));
    }
    if (kv.containsKey("password")) {
      props.setProperty("password", kv.get("password"));
    }
    props.setProperty("ApplicationName", "manta Aggregator");
    props.setProperty("connectTimeout", "10");
    conns = new Connection[(int) pool];
    free = new ArrayBlockingQueue<>((int) pool);
    try {
      for (int i = 0; i < pool; i++) {
        conns[i] = DriverManager.getConnection(url, props);
        free.add(i);
      }
    } catch (SQLException e) {
      close();
      throw new SQLException("cannot connect to PostgreSQL: " + e.getMessage(), e);
    }
  }

  /** A libpq connection string as keywords and values (no quoting, as the examples need). */
  static Map<String, String> parse(String conninfo) {
    Map<String, String> kv = new LinkedHashMap<>();
    for (String word : conninfo.trim().split("\\s+")) {
      int eq = word.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("bad connection string: missing \"=\" after \"" + word
            + "\" in connection info string");
      }
      kv.put(word.substring(0, eq), word.substring(eq + 1));
    }
    return kv;
  }

  private void close() {
    for (Connection c : conns) {
      if (c != null) {
        try {
          c.close();
        } catch (SQLException ignored) {
          // closing what failed: nothing more to say
        }
      }
    }
  }

  /** aggregate(table, query): the rows as a list of maps, or an error value. */
  public Object aggregate(String table, String query) throws InterruptedException {
    if (table == null || table.isEmpty()) {
      return new MantaException(ErrorCode.INVALID, "aggregate: the table name is empty");
    }
    String sql = (query == null || query.isEmpty() ? "SELECT * FROM {table}" : query)
                     .replace("{table}", "\"" + table.replace("\"", "\"\"") + "\"");
    int slot = free.take();
    try {
      synchronized (this) {
        calls++;
      }
      MantaException down = ensureLive(slot);
      if (down != null) {
        return down;
      }
      return run(conns[slot], sql);
    } finally {
      free.add(slot);
    }
  }

  /** The connection of a slot, reopened if the server closed it: null, or why it cannot be. */
  private MantaException ensureLive(int slot) {
    try {
      if (conns[slot] != null && conns[slot].isValid(5)) {
        return null;
      }
    } catch (SQLException e) {
      // not valid: reopen below
    }
    try {
      if (conns[slot] != null) {
        conns[slot].close();
      }
    } catch (SQLException ignored) {
      // the old connection is gone either way
    }
    try {
      conns[slot] = DriverManager.getConnection(url, props);
    } catch (SQLException e) {
      conns[slot] = null;
      return new MantaException(ErrorCode.TASK_FAILED,
          "database unreachable: " + e.getMessage() + "; the next call tries to reconnect");
    }
    synchronized (this) {
      reconnects++;
    }
    return null;
  }

  static Object run(Connection conn, String sql) {
    try (Statement st = conn.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      return rows(rs);
    } catch (SQLException e) {
      String state = e.getSQLState() == null ? "" : e.getSQLState();
      boolean lost;
      try {
        lost = state.startsWith("08") || state.startsWith("57P") || conn.isClosed();
      } catch (SQLException closed) {
        lost = true;
      }
      if (lost) {
        return new MantaException(ErrorCode.TASK_FAILED,
            "connection lost during the query: " + e.getMessage() + "; the next call reconnects");
      }
      String primary = e.getMessage();
      if (e instanceof PSQLException && ((PSQLException) e).getServerErrorMessage() != null) {
        primary = ((PSQLException) e).getServerErrorMessage().getMessage();
      }
      return new MantaException(ErrorCode.INVALID, "SQLSTATE " + state + ": " + primary);
    }
  }

  /** Rows typed by column type, as the C class does (dbagg_values.c). */
  static List<Object> rows(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    int cols = md.getColumnCount();
    String[] names = new String[cols + 1];
    String[] types = new String[cols + 1];
    for (int c = 1; c <= cols; c++) {
      names[c] = md.getColumnLabel(c);
      types[c] = md.getColumnTypeName(c);
    }
    List<Object> out = new ArrayList<>();
    while (rs.next()) {
      Map<String, Object> row = new LinkedHashMap<>();
      for (int c = 1; c <= cols; c++) {
        row.put(names[c], cell(rs, c, types[c]));
      }
      out.add(row);
    }
    return out;
  }

  private static Object cell(ResultSet rs, int c, String type) throws SQLException {
    Object v;
    switch (type) {
      case "int2":
      case "int4":
      case "int8":
      case "oid":
        v = rs.getLong(c);
        break;
      case "float4":
      case "float8":
      case "numeric":
        v = rs.getDouble(c);
        break;
      case "bool":
        v = rs.getBoolean(c);
        break;
      case "bytea":
        v = rs.getBytes(c);
        break;
      case "json":
      case "jsonb":
        String text = rs.getString(c);
        v = text == null ? null : json(JsonParser.parseString(text));
        break;
      default:
        v = rs.getString(c);
    }
    return rs.wasNull() ? null : v;
  }

  /** A JSON document as maps, lists, Long, Double, String, Boolean and null. */
  static Object json(JsonElement e) {
    if (e.isJsonObject()) {
      Map<String, Object> map = new LinkedHashMap<>();
      e.getAsJsonObject().entrySet().forEach(kv -> map.put(kv.getKey(), json(kv.getValue())));
      return map;
    }
    if (e.isJsonArray()) {
      List<Object> list = new ArrayList<>();
      e.getAsJsonArray().forEach(item -> list.add(json(item)));
      return list;
    }
    if (e.isJsonNull()) {
      return null;
    }
    JsonPrimitive p = e.getAsJsonPrimitive();
    if (p.isBoolean()) {
      return p.getAsBoolean();
    }
    if (p.isNumber()) {
      String s = p.getAsString();
      return s.matches("-?\\d+") ? (Object) Long.parseLong(s) : (Object) p.getAsDouble();
    }
    return p.getAsString();
  }

  /**
   * info(): language, connections, calls, reconnects, backend_pids (0 while a connection is down,
   * -1 while a call uses it).
   */
  public synchronized Map<String, Object> info() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("language", "Java");
    m.put("connections", (long) conns.length);
    m.put("calls", calls);
    m.put("reconnects", reconnects);
    List<Object> pids = new ArrayList<>();
    for (int i = 0; i < conns.length; i++) {
      Connection c = conns[i];
      long pid = 0;
      try {
        if (!free.contains(i)) {
          pid = -1;
        } else if (c != null) {
          pid = c.unwrap(PGConnection.class).getBackendPID();
        }
      } catch (SQLException e) {
        pid = 0;
      }
      pids.add(pid);
    }
    m.put("backend_pids", pids);
    return m;
  }
}
