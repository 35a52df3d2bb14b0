package org.jmpipool.internal;

import org.jmpipool.MpiPoolExecutor;

/**
 * A master and its workers as threads of this JVM over a {@link LoopbackNetwork}: the real
 * agents, codec and executor, without MPI.
 */
final class InProcessPool {

  private InProcessPool() {
  }

  static MpiPoolExecutor start(int workers) {
    LoopbackNetwork network = new LoopbackNetwork(workers + 1);
    for (int rank = 1; rank <= workers; rank++) {
      int workerRank = rank;
      CommunicationThread thread = new CommunicationThread(() -> network.endpoint(workerRank));
      thread.start();
      thread.run(new WorkerAgent(thread.opened().join(), new Codec(), thread));
    }
    CommunicationThread thread = new CommunicationThread(() -> network.endpoint(0));
    thread.start();
    MasterAgent agent = new MasterAgent(thread.opened().join(), thread);
    thread.run(agent);
    return new DistributedExecutor(agent, new Codec(), thread.finished());
  }
}
