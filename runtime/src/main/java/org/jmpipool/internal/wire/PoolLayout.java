package org.jmpipool.internal.wire;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;

/**
 * Which ranks serve a pool, in worker order, and how many tasks each runs at once. The master
 * and every worker of a pool know it: workers use it to find their peers (forwarding pushed
 * objects, groups of parallel tasks).
 *
 * <p>Threads: any (immutable).
 *
 * @param members the ranks of the workers; worker {@code i} is rank {@code members[i]}
 * @param threadsPerWorker the tasks each worker runs at once
 */
public record PoolLayout(int[] members, int threadsPerWorker) {

  public PoolLayout {
    if (members.length < 1) {
      throw new IllegalArgumentException("a pool needs at least 1 worker");
    }
    if (threadsPerWorker < 1) {
      throw new IllegalArgumentException("a worker needs at least 1 task thread, not " + threadsPerWorker);
    }
    members = members.clone();
  }

  /** The layout of a pool served by every rank of a transport but the master. */
  public static PoolLayout allRanks(int size, int threadsPerWorker) {
    return new PoolLayout(IntStream.range(1, size).toArray(), threadsPerWorker);
  }

  public int workers() {
    return members.length;
  }

  public int rankOf(int workerIndex) {
    return members[workerIndex];
  }

  /** Returns a rank's worker index, or -1 when it does not serve this pool. */
  public int indexOf(int rank) {
    for (int i = 0; i < members.length; i++) {
      if (members[i] == rank) {
        return i;
      }
    }
    return -1;
  }

  /**
   * The positions a broadcast reaches next from a position, on a binomial tree over the master
   * (position 0) and the workers (position {@code i + 1} for worker {@code i}): the master sends
   * to positions 1, 2, 4, 8..., and the workers forward, so that nobody sends more than about
   * log2(workers) copies.
   *
   * @param position the sender's position
   * @return the worker indexes to send to
   */
  public int[] broadcastTargets(int position) {
    int[] targets = new int[32];
    int count = 0;
    for (long step = Long.highestOneBit(Math.max(position, 1)) << (position == 0 ? 0 : 1);
        position + step <= members.length; step <<= 1) {
      targets[count++] = (int) (position + step - 1);
    }
    return Arrays.copyOf(targets, count);
  }

  public byte[] encode() {
    ByteBuffer bytes = ByteBuffer.allocate(8 + 4 * members.length);
    bytes.putInt(threadsPerWorker).putInt(members.length);
    for (int member : members) {
      bytes.putInt(member);
    }
    return bytes.array();
  }

  public static PoolLayout decode(byte[] encoded) {
    ByteBuffer bytes = ByteBuffer.wrap(encoded);
    int threads = bytes.getInt();
    int[] members = new int[bytes.getInt()];
    for (int i = 0; i < members.length; i++) {
      members[i] = bytes.getInt();
    }
    return new PoolLayout(members, threads);
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof PoolLayout layout && layout.threadsPerWorker == threadsPerWorker
        && Arrays.equals(layout.members, members);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(members) + threadsPerWorker;
  }

  @Override
  public String toString() {
    return "PoolLayout[members=" + Arrays.toString(members) + ", threadsPerWorker=" + threadsPerWorker + "]";
  }
}
