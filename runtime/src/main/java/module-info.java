/**
 * jmpipool: an MPI task pool for Java. The API is package {@code org.jmpipool}; everything else
 * is internal.
 */
module org.jmpipool {
  requires org.slf4j;
  requires com.esotericsoftware.kryo.kryo5;
  requires jdk.unsupported;
  requires java.management;

  exports org.jmpipool;
}
