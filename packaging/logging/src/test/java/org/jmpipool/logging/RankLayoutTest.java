package org.jmpipool.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.spi.LoggingEvent;
import org.junit.jupiter.api.Test;

/** The rank layout prints what the pattern layout it replaced printed. */
class RankLayoutTest {

  private final LoggerContext context = new LoggerContext();

  @Test
  void linesAreThoseOfThePatternLayoutItReplaced() {
    PatternLayout pattern = new PatternLayout();
    pattern.setContext(context);
    pattern.setPattern("%d{HH:mm:ss.SSS} [rank 3] %-5level %logger{0} - %msg%n");
    pattern.start();
    RankLayout layout = new RankLayout("3");
    layout.setContext(context);
    layout.start();
    for (Level level : new Level[] {Level.ERROR, Level.WARN, Level.INFO, Level.DEBUG}) {
      LoggingEvent event = event(level, null);
      assertEquals(pattern.doLayout(event), layout.doLayout(event));
    }
    LoggingEvent unnamed = new LoggingEvent("x", context.getLogger("Plain"), Level.INFO, "no package", null, null);
    assertEquals(pattern.doLayout(unnamed), layout.doLayout(unnamed));
  }

  @Test
  void anExceptionFollowsItsLineWithItsStackTrace() {
    String text = new RankLayout("0").doLayout(event(Level.ERROR, new IllegalStateException("boom")));
    String[] lines = text.split(System.lineSeparator());
    assertTrue(lines[0].endsWith("[rank 0] ERROR MasterAgent - the pool 7 broke"), text);
    assertEquals("java.lang.IllegalStateException: boom", lines[1]);
    assertTrue(lines[2].startsWith("\tat "), text);
    assertTrue(text.endsWith(System.lineSeparator()), "ends its last line");
  }

  private LoggingEvent event(Level level, Throwable thrown) {
    LoggingEvent event = new LoggingEvent("x", context.getLogger("org.jmpipool.internal.master.MasterAgent"), level,
        "the pool {} broke", thrown, new Object[] {7});
    event.setTimeStamp(1_765_000_000_123L);
    return event;
  }
}
