package org.jmpipool;

import java.util.List;
import java.util.function.BinaryOperator;

/**
 * The communicator of a group of parallel tasks, one on each worker of a pool (obtained with
 * {@link TaskContext#workerComm()}): collective operations among the tasks, with serializable
 * values. Every member must call the same collectives in the same order, as with MPI.
 *
 * <p>Values travel between the workers directly (over MPI point-to-point messages in an MPI
 * pool), serialized like task results. The algorithms send each value straight to every member
 * that needs it: meant for coordination and moderate data among tens of workers, not for
 * bandwidth-bound exchanges of large arrays. A member whose task ended (failed, or left the
 * group) makes the others' waiting calls fail with an {@link IllegalStateException} instead of
 * hanging.
 */
public interface WorkerComm {

  /**
   * Returns this task's rank in the group: its worker's index, from 0 to {@link #size()} - 1.
   *
   * @return the rank
   */
  int rank();

  /**
   * Returns the number of tasks in the group: the pool's workers.
   *
   * @return the size
   */
  int size();

  /** Waits until every member has called it. */
  void barrier();

  /**
   * Sends the root's value to every member.
   *
   * @param value the value on the root; ignored elsewhere
   * @param root the rank whose value is sent
   * @param <T> the value's type
   * @return the root's value (a copy on the other members)
   */
  <T> T broadcast(T value, int root);

  /**
   * Gathers every member's value on every member.
   *
   * @param value this member's value
   * @param <T> the value's type
   * @return the values in rank order
   */
  <T> List<T> allGather(T value);

  /**
   * Combines every member's value with an associative operation, in rank order, and gives the
   * result to every member (so every member gets the same result even when the operation is
   * not commutative, or rounds).
   *
   * @param value this member's value
   * @param operation combines two values; it runs on every member, on the gathered values
   * @param <T> the value's type
   * @return the combined value
   */
  <T> T allReduce(T value, BinaryOperator<T> operation);
}
