package org.jmpipool;

/**
 * A program run by the launcher that receives its executor as an argument instead of calling
 * {@link Jmpipool#executor()}.
 *
 * <p>{@code bin/jmpipool -n 4 com.acme.Sweep a b} runs {@code new Sweep().run(pool, {"a", "b"})}
 * on rank 0 (the class needs a public no-argument constructor) while ranks 1 to 3 serve the
 * pool's tasks. When {@code run} returns, the pool is shut down in order and the job exits 0;
 * when it throws, the job exits 1.
 */
@FunctionalInterface
public interface PoolApplication {

  /**
   * Runs the program.
   *
   * @param pool the job's executor; do not close it, the launcher does
   * @param args the program's arguments, exactly as given on the command line
   * @throws Exception any failure; it is printed and the job exits with status 1
   */
  void run(MpiPoolExecutor pool, String[] args) throws Exception;
}
