package org.jmpipool.internal.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jmpipool.SerializableCallable;
import org.jmpipool.SerializableFunction;
import org.jmpipool.TaskSerializationException;
import org.junit.jupiter.api.Test;

class CodecTest {

  private final Codec codec = new Codec(kryo -> { });

  record Point(int x, String label) {
  }

  static final class Node {
    Node next;
    String name;
  }

  @SuppressWarnings("unchecked")
  private <T> T roundTrip(T value) {
    Payload payload = codec.encodeObject("value", value);
    try {
      return (T) codec.decodeObject("value", payload);
    } finally {
      payload.release();
    }
  }

  @Test
  void capturingLambdasKeepTheirCapturedValues() throws Exception {
    int number = 41;
    String text = "answer";
    List<Integer> list = new ArrayList<>(List.of(1, 2, 3));
    Point point = new Point(3, "p");
    SerializableCallable<String> task = () -> text + (number + 1) + list + point.label();
    assertEquals("answer42[1, 2, 3]p", roundTrip(task).call());
  }

  @Test
  void methodReferencesAndNestedLambdasWork() throws Exception {
    SerializableFunction<String, Integer> length = String::length;
    assertEquals(5, roundTrip(length).apply("hello"));
    SerializableFunction<Integer, Integer> twice = x -> x * 2;
    SerializableCallable<Integer> outer = () -> twice.apply(21);
    assertEquals(42, roundTrip(outer).call());
    Callable<String> intersection = (Callable<String> & Serializable) () -> "cast";
    assertEquals("cast", roundTrip(intersection).call());
  }

  @Test
  void recordsAndCollectionsRoundTrip() {
    assertEquals(new Point(1, "a"), roundTrip(new Point(1, "a")));
    Map<String, List<Integer>> map = new TreeMap<>(Map.of("a", List.of(1, 2), "b", List.of()));
    assertEquals(map, roundTrip(map));
    assertEquals(List.of(1, 2, 3), roundTrip(List.of(1, 2, 3)));
    assertEquals(Set.of("x", "y"), roundTrip(Set.of("x", "y")));
    assertEquals(Arrays.asList(1, null, 3), roundTrip(Arrays.asList(1, null, 3)));
    assertEquals(List.of(4, 5), roundTrip(Collections.unmodifiableList(new ArrayList<>(List.of(4, 5)))));
    Map<String, Integer> synchronizedMap = Collections.synchronizedMap(new HashMap<>(Map.of("k", 1)));
    assertEquals(Map.of("k", 1), roundTrip(synchronizedMap));
    UUID id = UUID.randomUUID();
    assertEquals(id, roundTrip(id));
    assertEquals(3, roundTrip(new int[] {1, 2, 3}).length);
    assertEquals(java.nio.file.Path.of("/data/model.bin"), roundTrip(java.nio.file.Path.of("/data/model.bin")));
    assertEquals(List.of(java.nio.file.Path.of("a/b")), roundTrip(new ArrayList<>(List.of(java.nio.file.Path.of("a/b")))));
  }

  @Test
  void sharedReferencesAndCyclesSurvive() {
    Node a = new Node();
    Node b = new Node();
    a.name = "a";
    b.name = "b";
    a.next = b;
    b.next = a;
    Node copy = roundTrip(a);
    assertEquals("b", copy.next.name);
    assertSame(copy, copy.next.next);
  }

  @Test
  void exceptionsAsValuesRoundTrip() {
    IllegalStateException failure = roundTrip(new IllegalStateException("as a value"));
    assertEquals("as a value", failure.getMessage());
  }

  @Test
  void aNonSerializableLambdaIsRefusedWithItsClassName() {
    Supplier<String> plain = () -> "not serializable";
    TaskSerializationException e = assertThrows(TaskSerializationException.class,
        () -> codec.encodeObject("task", plain));
    assertTrue(e.getMessage().contains(plain.getClass().getName()), e.getMessage());
  }

  @Test
  void aFailingPartIsNamed() {
    Function<Object, Object> plain = x -> x;
    TaskSerializationException e = assertThrows(TaskSerializationException.class,
        () -> codec.encode("task", plain, (kryo, output) -> Codec.writePart(kryo, output, "argument", plain)));
    assertTrue(e.getMessage().startsWith("cannot serialize the argument ("), e.getMessage());
  }

  @Test
  void codecStaysUsableAfterFailures() {
    Supplier<String> plain = () -> "x";
    for (int i = 0; i < 3; i++) {
      assertThrows(TaskSerializationException.class, () -> codec.encodeObject("task", plain));
      assertEquals("fine", roundTrip("fine"));
    }
  }

  static int triple(int x) {
    return 3 * x;
  }

  @Test
  void statelessFunctionsAreEncodedOnceAndDecodedOnce() {
    SerializableFunction<Integer, Integer> stateless = CodecTest::triple;
    int offset = 5;
    SerializableFunction<Integer, Integer> capturing = x -> x + offset;
    assertTrue(FunctionCache.isStateless(stateless));
    assertTrue(!FunctionCache.isStateless(capturing));
    assertSame(FunctionCache.encoding(stateless, codec), FunctionCache.encoding(stateless, codec), "encoded once per class");
    Codec worker = new Codec(kryo -> { });
    Object[] decoded = new Object[4];
    for (int i = 0; i < 2; i++) {
      int slot = i;
      byte[] bytes = codec.encodeToArray("task", stateless, (kryo, output) -> {
        codec.writeFunction(kryo, output, stateless);
        codec.writeFunction(kryo, output, capturing);
      });
      worker.decode("task", bytes, (kryo, input) -> {
        decoded[2 * slot] = worker.readFunction(kryo, input);
        decoded[2 * slot + 1] = worker.readFunction(kryo, input);
        return null;
      });
    }
    assertSame(decoded[0], decoded[2], "one decoded instance of a stateless function");
    assertTrue(decoded[1] != decoded[3], "a capturing function is decoded afresh each time");
    @SuppressWarnings("unchecked")
    Function<Integer, Integer> function = (Function<Integer, Integer>) decoded[3];
    assertEquals(12, function.apply(7));
    assertEquals(21, ((Function<Integer, Integer>) decoded[0]).apply(7));
  }

  @Test
  void listsOfOneClassAndOfMixedClassesRoundTrip() {
    for (List<Object> values : List.of(List.<Object>of(1, 2, 3), List.<Object>of(1, "two", 3.0),
        Arrays.<Object>asList(null, 1), List.<Object>of())) {
      byte[] bytes = codec.encodeToArray("list", values, (kryo, output) -> {
        assertEquals(-1, Codec.writeList(kryo, output, values, new StringBuilder()));
      });
      RuntimeException[] failure = new RuntimeException[1];
      assertEquals(values, codec.decode("list", bytes, (kryo, input) -> Codec.readList(kryo, input, failure)));
      assertEquals(null, failure[0]);
    }
  }

  @Test
  void aListKeepsTheElementsBeforeOneThatCannotBeWritten() {
    Supplier<String> plain = () -> "x";
    List<Object> values = List.of("a", "b", plain, "d");
    StringBuilder failure = new StringBuilder();
    int[] failedAt = new int[1];
    byte[] bytes = codec.encodeToArray("list", values, (kryo, output) -> {
      failedAt[0] = Codec.writeList(kryo, output, values, failure);
      output.writeString("after");
    });
    assertEquals(2, failedAt[0]);
    assertTrue(failure.toString().contains("element 2"), failure.toString());
    RuntimeException[] readFailure = new RuntimeException[1];
    List<Object> read = codec.decode("list", bytes, (kryo, input) -> {
      List<Object> list = Codec.readList(kryo, input, readFailure);
      assertEquals("after", input.readString());
      return list;
    });
    assertEquals(List.of("a", "b"), read);
  }

  @Test
  void largePayloadsAreDirectWithRoomForTheirHeader() {
    Payload small = codec.encodeObject("value", new byte[100]);
    assertInstanceOf(Payload.Bytes.class, small);
    byte[] large = new byte[200_000];
    large[199_999] = 9;
    Payload.Parts payload = assertInstanceOf(Payload.Parts.class, codec.encodeObject("value", large));
    assertTrue(payload.framed());
    byte[] back = (byte[]) codec.decodeObject("value", payload);
    assertEquals(9, back[199_999]);
    payload.release();
  }

  /**
   * An encoding larger than one part streams into native parts as it is written: no array of
   * its size is made (Kryo's own buffer stops growing at one part, which used to overflow at 1 GiB).
   */
  @Test
  void aPayloadLargerThanAPartIsEncodedInPartsAndDecodedWhole() {
    byte[][] arrays = new byte[3][50 << 20];
    for (int i = 0; i < arrays.length; i++) {
      arrays[i][0] = (byte) i;
      arrays[i][arrays[i].length - 1] = (byte) (10 + i);
    }
    Payload.Parts payload = assertInstanceOf(Payload.Parts.class, codec.encodeObject("value", arrays));
    assertFalse(payload.framed());
    assertEquals(3, payload.buffers().size(), "150 MiB in parts of 64 MiB");
    assertTrue(payload.length() > 150L << 20);
    byte[][] back = (byte[][]) codec.decodeObject("value", payload);
    payload.release();
    for (int i = 0; i < arrays.length; i++) {
      assertArrayEquals(arrays[i], back[i]);
    }
  }

  @Test
  void aListElementFailingAfterTheListStreamedOutFailsTheWholeList() {
    List<Object> values = new ArrayList<>(List.of(new byte[70 << 20], new byte[1]));
    values.add((Supplier<String>) () -> "not serializable");
    TaskSerializationException failure = assertThrows(TaskSerializationException.class,
        () -> codec.encode("map results", values, (kryo, output) -> Codec.writeList(kryo, output, values, new StringBuilder())));
    assertTrue(failure.getMessage().contains("element 2"), failure.getMessage());
  }

  /**
   * Large byte arrays are borrowed by the encoder, not copied into its buffer: an element that
   * fails after them (inside its own borrowed array) keeps those before it and drops its own.
   */
  @Test
  void borrowedArraysOfAFailingElementAreDroppedAndThoseBeforeItKept() {
    byte[] first = new byte[100_000];
    byte[] second = new byte[50_000];
    first[99_999] = 1;
    second[0] = 2;
    List<Object> values = new ArrayList<>(List.of(first, second, new FailsAfterBytes()));
    StringBuilder failure = new StringBuilder();
    Payload payload = codec.encode("map results", values,
        (kryo, output) -> assertEquals(2, Codec.writeList(kryo, output, values, failure)));
    assertTrue(failure.toString().startsWith("cannot serialize element 2"), failure.toString());
    List<Object> back = codec.decode("map results", payload, (kryo, input) -> Codec.readList(kryo, input,
        new RuntimeException[1]));
    payload.release();
    assertEquals(2, back.size());
    assertArrayEquals(first, (byte[]) back.get(0));
    assertArrayEquals(second, (byte[]) back.get(1));
  }

  /** Writes a large array (borrowed), then fails. */
  static final class FailsAfterBytes implements com.esotericsoftware.kryo.kryo5.KryoSerializable {
    @Override
    public void write(com.esotericsoftware.kryo.kryo5.Kryo kryo, com.esotericsoftware.kryo.kryo5.io.Output output) {
      output.writeBytes(new byte[40_000]);
      throw new IllegalStateException("fails after its bytes");
    }

    @Override
    public void read(com.esotericsoftware.kryo.kryo5.Kryo kryo, com.esotericsoftware.kryo.kryo5.io.Input input) {
    }
  }

  @Test
  void aLostPayloadFailsItsDecodingWithTheReason() {
    TaskSerializationException failure = assertThrows(TaskSerializationException.class,
        () -> codec.decodeObject("result", new Payload.Lost(10, "no memory for it")));
    assertEquals("cannot deserialize the result: no memory for it", failure.getMessage());
  }

  @Test
  void aCorruptPayloadFailsWithASerializationException() {
    byte[] bytes = codec.encodeToArray("value", null, (kryo, output) -> kryo.writeClassAndObject(output, new Point(1, "x")));
    byte[] truncated = Arrays.copyOf(bytes, bytes.length / 2);
    assertInstanceOf(TaskSerializationException.class,
        assertThrows(RuntimeException.class, () -> codec.decodeObject("value", truncated)));
  }
}
