package org.jmpipool.examples;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.jmpipool.Jmpipool;
import org.jmpipool.MapOptions;
import org.jmpipool.MapResults;
import org.jmpipool.MpiPoolExecutor;

/**
 * A parameter sweep: integrates a damped, driven pendulum for every (damping, drive) pair of a
 * grid and reports where it swings widest (an angle beyond pi means it went over the top). Each grid point is one task; results arrive in
 * completion order and the sweep keeps the top five.
 *
 * <pre>bin/jmpipool -n 4 org.jmpipool.examples.ParameterSweep [grid-size]</pre>
 */
public final class ParameterSweep {

  private ParameterSweep() {
  }

  /** One point of the grid. */
  public record Parameters(double damping, double drive) {
  }

  /** What the simulation of one point found. */
  public record Outcome(Parameters parameters, double amplitude) {
  }

  /**
   * Runs the sweep.
   *
   * @param args optionally the number of values per parameter (default 24)
   */
  public static void main(String[] args) {
    int size = args.length > 0 ? Integer.parseInt(args[0]) : 24;
    List<Parameters> grid = new ArrayList<>();
    for (int i = 0; i < size; i++) {
      for (int j = 0; j < size; j++) {
        grid.add(new Parameters(0.05 + 0.5 * i / size, 0.2 + 1.5 * j / size));
      }
    }
    MpiPoolExecutor pool = Jmpipool.executor();
    long start = System.nanoTime();
    List<Outcome> top = new ArrayList<>();
    try (MapResults<Outcome> outcomes = pool.map(ParameterSweep::simulate, grid, MapOptions.defaults().unordered())) {
      for (Outcome outcome : outcomes) {
        top.add(outcome);
        top.sort(Comparator.comparingDouble(Outcome::amplitude).reversed());
        if (top.size() > 5) {
          top.remove(5);
        }
      }
    }
    System.out.printf("swept %d points on %d workers in %.2f s; widest swings:%n",
        grid.size(), pool.workers(), (System.nanoTime() - start) / 1e9);
    for (Outcome outcome : top) {
      System.out.printf("  damping %.3f drive %.3f -> largest angle %.1f rad%n",
          outcome.parameters().damping(), outcome.parameters().drive(), outcome.amplitude());
    }
  }

  /** Integrates the pendulum for 200 time units (RK4) and returns the largest late swing. */
  static Outcome simulate(Parameters p) {
    double dt = 0.005;
    double theta = 0.1;
    double omega = 0;
    double amplitude = 0;
    int steps = (int) (200 / dt);
    for (int step = 0; step < steps; step++) {
      double t = step * dt;
      double k1t = omega;
      double k1w = acceleration(p, t, theta, omega);
      double k2t = omega + 0.5 * dt * k1w;
      double k2w = acceleration(p, t + 0.5 * dt, theta + 0.5 * dt * k1t, omega + 0.5 * dt * k1w);
      double k3t = omega + 0.5 * dt * k2w;
      double k3w = acceleration(p, t + 0.5 * dt, theta + 0.5 * dt * k2t, omega + 0.5 * dt * k2w);
      double k4t = omega + dt * k3w;
      double k4w = acceleration(p, t + dt, theta + dt * k3t, omega + dt * k3w);
      theta += dt / 6 * (k1t + 2 * k2t + 2 * k3t + k4t);
      omega += dt / 6 * (k1w + 2 * k2w + 2 * k3w + k4w);
      if (step > steps / 2) {
        amplitude = Math.max(amplitude, Math.abs(theta));
      }
    }
    return new Outcome(p, amplitude);
  }

  private static double acceleration(Parameters p, double t, double theta, double omega) {
    return -p.damping() * omega - Math.sin(theta) + p.drive() * Math.cos(0.667 * t);
  }
}
