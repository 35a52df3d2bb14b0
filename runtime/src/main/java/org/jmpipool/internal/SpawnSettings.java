package org.jmpipool.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * How to start the workers of a spawned pool, as {@link org.jmpipool.PoolBuilder} collected it.
 *
 * <p>Threads: any (immutable).
 *
 * @param workers how many workers
 * @param jvmOptions options for spawned worker JVMs
 * @param systemProperties system properties set in spawned workers
 * @param inheritedProperties names of this JVM's system properties passed to spawned workers
 * @param environment environment variables set for spawned workers
 * @param workingDirectory the spawned workers' working directory
 * @param startTimeout how long starting spawned workers may take
 * @param hosts the hosts the workers run on, in turn; empty for this JVM's
 */
public record SpawnSettings(int workers, List<String> jvmOptions,
    Map<String, String> systemProperties, List<String> inheritedProperties, Map<String, String> environment,
    Path workingDirectory, Duration startTimeout, List<String> hosts) {
}
