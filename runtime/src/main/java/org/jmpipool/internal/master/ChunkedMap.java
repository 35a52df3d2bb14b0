package org.jmpipool.internal.master;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.SerializableFunction;
import org.jmpipool.TaskSerializationException;
import org.jmpipool.internal.wire.Codec;
import org.jmpipool.internal.wire.HandedOver;
import org.jmpipool.internal.wire.Payload;
import org.jmpipool.internal.wire.TaskKind;
import org.jmpipool.internal.wire.TaskSeeds;
import org.jmpipool.internal.wire.ThrowableCodec;

/**
 * A map cut into chunk tasks. The inputs are read on the caller's thread, a chunk at a time, and
 * only as far ahead as the bound on items in flight allows; results are decoded on the caller's
 * thread too, so the communication thread only moves bytes. How big chunks are, and how many
 * items may be in flight, is the {@link ChunkSizer}'s call; only whole chunks are sent while
 * earlier ones are in flight.
 *
 * <p>Threads: the caller reads the results (one thread at a time, as an iterator is read);
 * {@link #close()} may come from any thread, or the cleaner; the communication thread hands
 * each chunk its outcome.
 */
final class ChunkedMap<T, R> implements MapResults<R> {

  private static final Cleaner CLEANER = Cleaner.create();

  private final State state;
  private final Cleaner.Cleanable cleanable;
  private boolean iterated;

  private ChunkedMap(State state) {
    this.state = state;
    this.cleanable = CLEANER.register(this, state::close);
  }

  static <T, R> MapResults<R> start(DistributedExecutor executor, Codec codec,
      SerializableFunction<? super T, ? extends R> function, Iterator<? extends T> inputs, int size,
      MapOptions options, Runnable onClose) {
    State state = new State(executor, codec, function, inputs, size, options, onClose);
    ChunkedMap<T, R> map = new ChunkedMap<>(state);
    state.refill();
    return map;
  }

  @Override
  public Iterator<R> iterator() {
    if (iterated) {
      throw new IllegalStateException("the results of a map can be iterated only once");
    }
    iterated = true;
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return state.advance();
      }

      @Override
      @SuppressWarnings("unchecked")
      public R next() {
        if (!state.advance()) {
          if (state.closed) {
            // Closed meanwhile, perhaps by another thread after hasNext() said there was more.
            throw new CancellationException("the map's results were closed; its unfinished work was cancelled");
          }
          throw new NoSuchElementException();
        }
        return (R) state.take();
      }
    };
  }

  @Override
  public Stream<R> stream() {
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(), Spliterator.ORDERED), false)
        .onClose(this::close);
  }

  @Override
  public List<R> toList() {
    List<R> results = new ArrayList<>();
    try {
      iterator().forEachRemaining(results::add);
    } finally {
      close();
    }
    return results;
  }

  @Override
  public void close() {
    cleanable.clean();
  }

  /** Everything the map holds; it must not refer to the {@link ChunkedMap}, which the cleaner watches. */
  private static final class State {
    private final DistributedExecutor executor;
    private final Codec codec;
    private final SerializableFunction<?, ?> function;
    private final Iterator<?> inputs;
    private final MapOptions options;
    private final ChunkSizer sizer;
    private final Runnable onClose;
    private final long deadline;
    /**
     * Chunks not yet handed out, in submission order; removable in any order for unordered maps.
     * Guarded by this: close() may come from another thread (or the cleaner) while the reader
     * waits.
     */
    private final LinkedHashSet<Chunk> submitted = new LinkedHashSet<>();
    private final LinkedBlockingQueue<Chunk> completed = new LinkedBlockingQueue<>();
    /** Items read from the inputs and not yet handed out. */
    private int itemsInFlight;
    private boolean inputsDone;
    private volatile boolean closed;
    private Chunk current;
    private int index;
    /** Seeds the items' random generators, with their indexes. */
    private final long seed;
    /** The index of the next input to read. */
    private long nextItem;

    State(DistributedExecutor executor, Codec codec, SerializableFunction<?, ?> function, Iterator<?> inputs,
        int size, MapOptions options, Runnable onClose) {
      this.executor = executor;
      this.codec = codec;
      this.function = function;
      this.inputs = inputs;
      this.options = options;
      this.sizer = new ChunkSizer(options, size, executor::workers);
      this.onClose = onClose;
      Duration timeout = options.timeout();
      this.deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
      this.seed = options.seed() != null ? options.seed() : executor.seed();
    }

    /** Moves to the next value or failure; returns false at the end, or once closed. */
    boolean advance() {
      if (closed) {
        return false;
      }
      while (current == null || (index >= current.values.size() && current.failure == null)) {
        if (current != null) {
          itemsInFlight -= current.itemCount;
          current = null;
        }
        if (closed) {
          return false;
        }
        refill();
        Chunk next = nextCompleted();
        if (next == null) {
          return false;
        }
        next.decode(codec);
        current = next;
        index = 0;
      }
      return true;
    }

    Object take() {
      if (index < current.values.size()) {
        return current.values.get(index++);
      }
      Throwable failure = current.failure;
      current = null;
      close();
      throw failure instanceof CancellationException cancellation ? cancellation : new CompletionException(failure);
    }

    private Chunk nextCompleted() {
      if (options.ordered()) {
        // The head stays among the chunks close() cancels until it is done: a timeout, an
        // interrupt or close() while waiting for it must cancel it too.
        Chunk head = oldestSubmitted();
        if (head == null) {
          return null;
        }
        await(head);
        forget(head);
        return head;
      }
      if (oldestSubmitted() == null) {
        return null;
      }
      Chunk chunk;
      try {
        long left = deadline - System.nanoTime();
        chunk = left <= 0 ? completed.poll() : completed.poll(left, TimeUnit.NANOSECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new CancellationException("interrupted while waiting for a map result");
      }
      if (chunk == null) {
        throw timedOut();
      }
      forget(chunk);
      return chunk;
    }

    private synchronized Chunk oldestSubmitted() {
      return submitted.isEmpty() ? null : submitted.iterator().next();
    }

    private synchronized void forget(Chunk chunk) {
      submitted.remove(chunk);
    }

    private void await(Chunk chunk) {
      try {
        long left = deadline - System.nanoTime();
        if (deadline == Long.MAX_VALUE) {
          chunk.done.get();
        } else {
          chunk.done.get(Math.max(left, 0), TimeUnit.NANOSECONDS);
        }
      } catch (TimeoutException e) {
        throw timedOut();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        close();
        throw new CancellationException("interrupted while waiting for a map result");
      } catch (ExecutionException e) {
        throw new IllegalStateException("chunks complete normally", e);
      }
    }

    private CompletionException timedOut() {
      close();
      return new CompletionException(new TimeoutException("the map's deadline of " + options.timeout() + " passed"));
    }

    /** Reads inputs and submits chunks until the bound on items in flight is reached. */
    void refill() {
      while (!inputsDone && !closed) {
        int chunkSize = sizer.nextChunkSize();
        if (itemsInFlight > 0 && itemsInFlight + chunkSize > sizer.maxItemsInFlight(chunkSize)) {
          break;
        }
        List<Object> items = new ArrayList<>(Math.min(chunkSize, 1024));
        Throwable inputFailure = null;
        try {
          while (items.size() < chunkSize && inputs.hasNext()) {
            items.add(inputs.next());
          }
          inputsDone = items.size() < chunkSize;
        } catch (RuntimeException e) {
          inputFailure = e;
          inputsDone = true;
        }
        if (items.isEmpty() && inputFailure == null) {
          break;
        }
        submit(items, inputFailure);
      }
    }

    private void submit(List<Object> items, Throwable inputFailure) {
      Chunk chunk = new Chunk(this, items.size());
      chunk.localFailure = inputFailure;
      long firstItem = nextItem;
      nextItem += items.size();
      RefCapture.Encoded encoded = RefCapture.Encoded.NOTHING;
      if (!executor.handsOverTasks()) {
        encoded = encode(chunk, items);
      }
      if (chunk.localFailure != null) {
        inputsDone = true;
      }
      if (chunk.sentItems > 0) {
        List<Object> sent = items.subList(0, chunk.sentItems);
        @SuppressWarnings("unchecked")
        SerializableFunction<Object, ?> fn = (SerializableFunction<Object, ?>) function;
        TaskRecord record = new TaskRecord(TaskKind.CHUNK, encoded.payload(), encoded.holding(chunk),
            () -> sent.forEach(fn::apply));
        record.randomBase = TaskSeeds.taskBase(seed, firstItem);
        if (executor.handsOverTasks()) {
          record.handedOver = HandedOver.chunk(fn, sent);
        }
        chunk.record = record;
        try {
          executor.enqueue(record);
        } catch (RuntimeException e) {
          chunk.record = null;
          chunk.sentItems = 0;
          chunk.localFailure = e;
          inputsDone = true;
        }
      }
      if (chunk.record == null) {
        chunk.finish();
      }
      synchronized (this) {
        submitted.add(chunk);
      }
      itemsInFlight += chunk.itemCount;
    }

    /** Encodes a chunk's function and items; what cannot be encoded becomes the chunk's local failure. */
    private RefCapture.Encoded encode(Chunk chunk, List<Object> items) {
      try {
        StringBuilder failure = new StringBuilder();
        return executor.encodeCapturing(() -> codec.encode("task", function, (kryo, output) -> {
          codec.writeFunction(kryo, output, function);
          int failedAt = Codec.writeList(kryo, output, items, failure);
          if (failedAt >= 0) {
            chunk.sentItems = failedAt;
            chunk.localFailure = new TaskSerializationException(failure.toString(), null);
          }
        }));
      } catch (TaskSerializationException e) {
        chunk.sentItems = 0;
        chunk.localFailure = e;
        return RefCapture.Encoded.NOTHING;
      }
    }

    void completed(Chunk chunk) {
      if (!options.ordered()) {
        completed.add(chunk);
      }
    }

    /** Cancels unfinished work; runs at most once, on close or when the map becomes unreachable; any thread. */
    void close() {
      List<Chunk> unfinished;
      synchronized (this) {
        if (closed) {
          return;
        }
        closed = true;
        unfinished = new ArrayList<>(submitted);
        submitted.clear();
      }
      for (Chunk chunk : unfinished) {
        if (chunk.record != null && !chunk.done.isDone()) {
          executor.cancel(chunk.record, true);
        }
        chunk.abandon();
      }
      onClose.run();
    }
  }

  /** One chunk task: its inputs' count, then its outcome. */
  private static final class Chunk implements TaskRecord.Completion {
    final State state;
    final int itemCount;
    final CompletableFuture<Void> done = new PoolFuture<>();
    int sentItems;
    TaskRecord record;
    /** A failure found before sending, after the sent items: unserializable item, failing input, shutdown. */
    Throwable localFailure;
    /** The encoded results, or the encoded failure, from their arrival until decoded; guarded by this. */
    private Payload payload;
    /** Whether {@link #payload} is a failure the worker described; guarded by this. */
    private boolean payloadIsFailure;
    /** Set by close(): results arriving later are dropped at once. Guarded by this. */
    private boolean abandoned;
    /** Why the chunk was cancelled before it started, or {@code null}; set by the communication thread or close(). */
    private volatile String notStarted;
    List<Object> values = List.of();
    Throwable failure;

    Chunk(State state, int itemCount) {
      this.state = state;
      this.itemCount = itemCount;
      this.sentItems = itemCount;
    }

    @Override
    public void onResult(Payload result, long executionNanos) {
      synchronized (this) {
        if (abandoned) {
          result.release();
          return;
        }
        payload = result.retain();
      }
      state.sizer.observe(sentItems, executionNanos);
      finish();
    }

    private synchronized boolean failedOnWorker() {
      return payloadIsFailure;
    }

    private synchronized Payload takePayload() {
      Payload taken = payload;
      payload = null;
      return taken;
    }

    @Override
    public void onRemoteFailure(Payload encoded) {
      synchronized (this) {
        if (abandoned) {
          encoded.release();
          return;
        }
        payload = encoded.retain();
        payloadIsFailure = true;
      }
      finish();
    }

    @Override
    public void onFailure(Throwable taskFailure) {
      localFailure = taskFailure;
      finish();
    }

    @Override
    public void onNotStarted(String reason) {
      notStarted = reason;
      finish();
    }

    void finish() {
      done.complete(null);
      state.completed(this);
    }

    /**
     * The map was closed: results that arrived are let go, later ones dropped, and a reader
     * waiting for this chunk stops waiting, whatever its task does.
     */
    void abandon() {
      Payload dropped;
      synchronized (this) {
        abandoned = true;
        dropped = payload;
        payload = null;
      }
      if (dropped != null) {
        dropped.release();
      }
      if (notStarted == null) {
        notStarted = "was cancelled: the map's results were closed";
      }
      finish();
    }

    /** Decodes the outcome on the caller's thread. */
    void decode(Codec codec) {
      Payload results = takePayload();
      if (notStarted != null) {
        if (results != null) {
          results.release();
        }
        failure = new CancellationException("a task of the map " + notStarted);
        return;
      }
      Throwable workerFailure = null;
      if (record != null && record.handedOver != null && localFailure == null) {
        HandedOver.ChunkOutcome outcome = (HandedOver.ChunkOutcome) record.handedOver.value();
        values = outcome.values();
        workerFailure = outcome.failure();
      } else if (results != null && failedOnWorker()) {
        try {
          workerFailure = ThrowableCodec.decode(results);
        } finally {
          results.release();
        }
      } else if (results != null) {
        try {
          Throwable[] found = new Throwable[1];
          values = codec.decode("map results", results, (kryo, input) -> {
            RuntimeException[] readFailure = new RuntimeException[1];
            List<Object> decoded = Codec.readList(kryo, input, readFailure);
            if (readFailure[0] != null) {
              found[0] = readFailure[0];
            } else if (input.readBoolean()) {
              found[0] = ThrowableCodec.decode(input.readBytes(input.readInt()));
            }
            return decoded;
          });
          workerFailure = found[0];
        } catch (TaskSerializationException e) {
          workerFailure = e;
        } finally {
          results.release();
        }
      }
      failure = workerFailure != null ? workerFailure : localFailure;
    }
  }
}
