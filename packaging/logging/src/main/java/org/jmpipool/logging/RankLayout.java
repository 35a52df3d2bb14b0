package org.jmpipool.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;

/**
 * One line per event, {@code HH:mm:ss.SSS [rank R] LEVEL Logger - message}, then the stack trace
 * of its exception if any: what a pattern layout with {@code %d{HH:mm:ss.SSS} [rank R] %-5level
 * %logger{0} - %msg%n} prints, without that layout's start-up cost.
 */
final class RankLayout extends LayoutBase<ILoggingEvent> {

  private final String rank;
  private final ZoneId zone = ZoneId.systemDefault();

  RankLayout(String rank) {
    this.rank = rank;
  }

  @Override
  public String doLayout(ILoggingEvent event) {
    StringBuilder line = new StringBuilder(128);
    LocalTime time = LocalTime.ofInstant(Instant.ofEpochMilli(event.getTimeStamp()), zone);
    appendPadded(line, time.getHour(), 2).append(':');
    appendPadded(line, time.getMinute(), 2).append(':');
    appendPadded(line, time.getSecond(), 2).append('.');
    appendPadded(line, time.getNano() / 1_000_000, 3);
    line.append(" [rank ").append(rank).append("] ");
    String level = event.getLevel().toString();
    line.append(level).append(" ".repeat(Math.max(0, 5 - level.length()))).append(' ');
    String logger = event.getLoggerName();
    line.append(logger, logger.lastIndexOf('.') + 1, logger.length()).append(" - ");
    line.append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
    IThrowableProxy thrown = event.getThrowableProxy();
    if (thrown != null) {
      line.append(ThrowableProxyUtil.asString(thrown));
    }
    return line.toString();
  }

  private static StringBuilder appendPadded(StringBuilder line, int value, int digits) {
    String text = Integer.toString(value);
    for (int i = text.length(); i < digits; i++) {
      line.append('0');
    }
    return line.append(text);
  }
}
