package org.jmpipool.internal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jmpipool.Backend;

/**
 * What a pool is made of, as {@link org.jmpipool.PoolBuilder} collected it.
 *
 * @param backend where the workers run
 * @param workers how many workers
 * @param serializeTasks whether a local pool serializes tasks and results
 * @param jvmOptions options for spawned worker JVMs
 * @param systemProperties system properties set in spawned workers
 * @param inheritedProperties names of this JVM's system properties passed to spawned workers
 * @param environment environment variables set for spawned workers
 * @param workingDirectory the spawned workers' working directory
 * @param startTimeout how long starting spawned workers may take
 */
public record PoolSettings(Backend backend, int workers, boolean serializeTasks, List<String> jvmOptions,
    Map<String, String> systemProperties, List<String> inheritedProperties, Map<String, String> environment,
    Path workingDirectory, Duration startTimeout) {
}
