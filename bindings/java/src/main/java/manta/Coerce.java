package manta;

import java.util.HashMap;
import java.util.Map;

/**
 * Fits converted arguments to the declared parameter types of an actor's
 * constructor or method: integers arrive as Long and may go to int, short
 * or byte parameters when they fit; doubles may go to float parameters.
 * Anything else must already be an instance of the parameter type.
 */
final class Coerce {
  private Coerce() {}

  static final class Mismatch extends Exception {
    private static final long serialVersionUID = 1L;

    Mismatch(String message) {
      super(message, null, false, false);
    }
  }

  private static final Map<Class<?>, Class<?>> BOXES = new HashMap<>();

  static {
    BOXES.put(boolean.class, Boolean.class);
    BOXES.put(byte.class, Byte.class);
    BOXES.put(short.class, Short.class);
    BOXES.put(int.class, Integer.class);
    BOXES.put(long.class, Long.class);
    BOXES.put(float.class, Float.class);
    BOXES.put(double.class, Double.class);
    BOXES.put(char.class, Character.class);
  }

  static Object[] args(Class<?>[] types, Object[] args, String what) throws Mismatch {
    Object[] out = args;
    for (int i = 0; i < types.length; i++) {
      Object a = args[i];
      Object c = one(types[i], a, what, i);
      if (c != a) {
        if (out == args) {
          out = args.clone();
        }
        out[i] = c;
      }
    }
    return out;
  }

  private static Object one(Class<?> type, Object a, String what, int i) throws Mismatch {
    Class<?> box = type.isPrimitive() ? BOXES.get(type) : type;
    if (a == null) {
      if (type.isPrimitive()) {
        throw mismatch(what, i, type, null);
      }
      return null;
    }
    if (box.isInstance(a)) {
      return a;
    }
    if (a instanceof Long) {
      long v = (Long) a;
      if (box == Integer.class && v == (int) v) {
        return (int) v;
      }
      if (box == Short.class && v == (short) v) {
        return (short) v;
      }
      if (box == Byte.class && v == (byte) v) {
        return (byte) v;
      }
    }
    if (a instanceof Double && box == Float.class) {
      return (float) (double) (Double) a;
    }
    throw mismatch(what, i, type, a);
  }

  private static Mismatch mismatch(String what, int i, Class<?> type, Object a) {
    String got = a == null ? "null" : a.getClass().getName();
    String range = a instanceof Long
            && (type == int.class || type == Integer.class || type == short.class
                || type == Short.class || type == byte.class || type == Byte.class)
        ? " (" + a + " does not fit)"
        : "";
    return new Mismatch(
        what + ": argument " + (i + 1) + " must be " + type.getName() + ", got " + got + range);
  }
}
