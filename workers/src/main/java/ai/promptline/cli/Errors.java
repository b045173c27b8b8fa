package ai.promptline.cli;

/** Turns an exception into the single line a user sees. */
final class Errors {
  private Errors() {}

  static String describe(Throwable ex) {
    Throwable t = ex;
    while ((t.getMessage() == null || t.getMessage().isBlank()) && t.getCause() != null) t = t.getCause();
    String msg = t.getMessage();
    return msg == null ? t.getClass().getSimpleName() : msg.replace('\n', ' ');
  }
}
