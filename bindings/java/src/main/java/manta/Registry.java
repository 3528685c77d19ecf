package manta;

import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The Java functions, actor classes and methods this JVM offers. Native
 * code registers each under an int id (its user_data) and calls back
 * through {@link #callFunction}, {@link #newActor} and {@link #callMethod},
 * which never throw: a failure is returned as a MantaException value, which
 * the glue turns into an error value.
 *
 * <p>An id is kept per name across runtime restarts, so a node that
 * re-registers the same names after each init never grows the table.
 */
final class Registry {
  private static final Object LOCK = new Object();
  private static final Map<String, Integer> IDS = new HashMap<>();
  private static volatile Object[] entries = new Object[16];

  private Registry() {}

  // ---- entries -------------------------------------------------------------

  private static final class FunctionEntry {
    final Fn.Varargs fn;
    final String origin;

    FunctionEntry(String name, Fn.Varargs fn) {
      this.fn = fn;
      this.origin = "java function " + name;
    }
  }

  /** Constructors or methods of one name, chosen by argument count. */
  private static final class Overloads {
    final String what;
    final String origin;
    final Executable[] byArity;
    final Class<?>[][] types;

    Overloads(String what, String origin, List<? extends Executable> all) {
      this.what = what;
      this.origin = origin;
      int max = 0;
      for (Executable e : all) {
        max = Math.max(max, e.getParameterCount());
      }
      byArity = new Executable[max + 1];
      // clang-format 14 would write "[ max + 1 ]" after a generic type.
      // clang-format off
      types = new Class<?>[max + 1][];
      // clang-format on
      for (Executable e : all) {
        int n = e.getParameterCount();
        if (byArity[n] != null) {
          throw new IllegalArgumentException(what + " has two public overloads with " + n
              + " parameters; manta chooses by name and argument count, so keep one");
        }
        e.setAccessible(true);
        byArity[n] = e;
        types[n] = e.getParameterTypes();
      }
    }

    /** The one arity all overloads share, else -1 (any: checked here). */
    int nargs() {
      int n = -1;
      for (int i = 0; i < byArity.length; i++) {
        if (byArity[i] != null) {
          if (n >= 0) {
            return -1;
          }
          n = i;
        }
      }
      return n;
    }

    Object invoke(Object target, Object[] args) {
      int n = args.length;
      if (n >= byArity.length || byArity[n] == null) {
        return new MantaException(
            ErrorCode.ARITY.code(), what + " takes no " + n + " arguments", origin, null);
      }
      Object[] coerced;
      try {
        coerced = Coerce.args(types[n], args, what);
      } catch (Coerce.Mismatch m) {
        return new MantaException.ValueType(m.getMessage(), origin, null);
      }
      try {
        Executable e = byArity[n];
        return e instanceof Method ? ((Method) e).invoke(target, coerced)
                                   : ((Constructor<?>) e).newInstance(coerced);
      } catch (InvocationTargetException e) {
        return failure(e.getCause(), origin);
      } catch (Throwable t) {
        return failure(t, origin);
      }
    }
  }

  // ---- registration --------------------------------------------------------

  static void registerFunction(String name, int nargs, Fn.Varargs fn) {
    Manta.cName(name, "function name");
    FunctionEntry entry = new FunctionEntry(name, fn);
    synchronized (LOCK) {
      int id = idFor("function " + name);
      publishThenRegister(id, entry, () -> Native.registerFunction(name, nargs, id));
    }
  }

  static void registerClass(String className, Class<?> cls) {
    Manta.cName(className, "actor class name");
    if (cls == null) {
      throw new NullPointerException("actor class " + className + " is null");
    }
    if (cls.isInterface() || Modifier.isAbstract(cls.getModifiers())) {
      throw new IllegalArgumentException(cls.getName() + " is abstract: it cannot make actors");
    }
    if (MantaException.class.isAssignableFrom(cls)) {
      // A constructor's MantaException result means "failed" to the glue.
      throw new IllegalArgumentException(
          cls.getName() + " is a MantaException: not an actor class");
    }
    List<Constructor<?>> ctors = Arrays.asList(cls.getConstructors());
    if (ctors.isEmpty()) {
      throw new IllegalArgumentException(cls.getName() + " has no public constructor");
    }
    String origin = "java actor " + className;
    Overloads make = new Overloads("constructor of " + className, origin + " constructor", ctors);
    Map<String, List<Method>> methods = new LinkedHashMap<>();
    for (Method m : cls.getMethods()) {
      if (m.getDeclaringClass() == Object.class || Modifier.isStatic(m.getModifiers())
          || m.isSynthetic() || m.isBridge()) {
        continue;
      }
      methods.computeIfAbsent(m.getName(), k -> new ArrayList<>()).add(m);
    }
    Map<String, Overloads> groups = new LinkedHashMap<>();
    for (Map.Entry<String, List<Method>> e : methods.entrySet()) {
      String what = className + "." + e.getKey();
      groups.put(e.getKey(), new Overloads(what, origin + "." + e.getKey(), e.getValue()));
    }
    synchronized (LOCK) {
      int classId = idFor("class " + className);
      publishThenRegister(classId, make, () -> Native.registerClass(className, classId));
      for (Map.Entry<String, Overloads> e : groups.entrySet()) {
        int id = idFor("method " + className + "." + e.getKey());
        Overloads o = e.getValue();
        publishThenRegister(
            id, o, () -> Native.registerMethod(className, e.getKey(), o.nargs(), id));
      }
    }
  }

  private static int idFor(String key) {
    Integer id = IDS.get(key);
    if (id == null) {
      id = IDS.size();
      IDS.put(key, id);
      if (id >= entries.length) {
        entries = Arrays.copyOf(entries, entries.length * 2);
      }
    }
    return id;
  }

  /**
   * The entry is visible before the native registration, so no call can
   * find the name without its entry; if the name was taken, the previous
   * entry (perhaps the live one) is put back.
   */
  private static void publishThenRegister(int id, Object entry, Runnable register) {
    Object[] table = entries;
    Object previous = table[id];
    table[id] = entry;
    entries = table; // volatile write: publishes the slot
    try {
      register.run();
    } catch (RuntimeException e) {
      table[id] = previous;
      entries = table;
      throw e;
    }
  }

  /** After shutdown: nothing registered is reachable from native code. */
  static void clear() {
    synchronized (LOCK) {
      IDS.clear();
      entries = new Object[16];
    }
  }

  // ---- called from native worker threads -----------------------------------

  static Object callFunction(int id, Object[] args) {
    FunctionEntry f = (FunctionEntry) entries[id];
    long token = CancelWatch.enter(); // a cancel interrupts this thread
    try {
      return f.fn.call(args);
    } catch (Throwable t) {
      return failure(t, f.origin);
    } finally {
      CancelWatch.leave(token);
    }
  }

  static Object newActor(int id, Object[] args) {
    return ((Overloads) entries[id]).invoke(null, args);
  }

  static Object callMethod(int id, Object instance, Object[] args) {
    long token = CancelWatch.enter();
    try {
      return ((Overloads) entries[id]).invoke(instance, args);
    } finally {
      CancelWatch.leave(token);
    }
  }

  /**
   * What a Java exception becomes for the caller: TASK_FAILED, "<class>:
   * <message>", with its cause chain (a MantaException cause keeps its own
   * kind and origin).
   */
  static MantaException failure(Throwable t, String origin) {
    return new MantaException.TaskFailed(describe(t), origin, causeOf(t, 0));
  }

  private static MantaException causeOf(Throwable t, int depth) {
    if (t instanceof MantaException) {
      return (MantaException) t;
    }
    Throwable c = t.getCause();
    if (c == null || c == t || depth >= 8) {
      return null;
    }
    if (c instanceof MantaException) {
      return (MantaException) c;
    }
    return new MantaException.TaskFailed(describe(c), "", causeOf(c, depth + 1));
  }

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null ? t.getClass().getName() : t.getClass().getName() + ": " + m;
  }
}
