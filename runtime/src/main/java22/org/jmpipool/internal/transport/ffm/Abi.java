package org.jmpipool.internal.transport.ffm;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.jmpipool.internal.transport.MpiInstallation;

/**
 * How an MPI library represents what jmpipool passes it: the two application binary interfaces
 * in use. Open MPI's handles are pointers, its predefined handles the addresses of symbols of the
 * library; the MPICH family's (MPICH, Intel MPI, Cray MPICH, MVAPICH) are 32-bit integers with
 * fixed values. Their {@code MPI_Status} layouts and {@code MPI_ANY_SOURCE} differ too. In Java
 * every handle is a {@code long}: the pointer, or the integer.
 *
 * <p>Threads: any (constants and pure functions).
 */
enum Abi {

  OPEN_MPI(MpiInstallation.Family.OPEN_MPI, ValueLayout.ADDRESS, -1, 24, 0) {
    @Override
    long predefined(SymbolLookup library, Predefined handle) {
      String symbol = switch (handle) {
        case COMM_WORLD -> "ompi_mpi_comm_world";
        case COMM_SELF -> "ompi_mpi_comm_self";
        case COMM_NULL -> "ompi_mpi_comm_null";
        case BYTE -> "ompi_mpi_byte";
        case INFO_NULL -> "ompi_mpi_info_null";
        case ERRORS_RETURN -> "ompi_mpi_errors_return";
        case REQUEST_NULL -> "ompi_request_null";
      };
      return library.find(symbol).orElseThrow(() -> new IllegalStateException("no symbol " + symbol)).address();
    }
  },

  MPICH(MpiInstallation.Family.MPICH, ValueLayout.JAVA_INT, -2, 20, 8) {
    @Override
    long predefined(SymbolLookup library, Predefined handle) {
      return switch (handle) {
        case COMM_WORLD -> 0x44000000;
        case COMM_SELF -> 0x44000001;
        case COMM_NULL -> 0x04000000;
        case BYTE -> 0x4c00010d;
        case INFO_NULL -> 0x1c000000;
        case ERRORS_RETURN -> 0x54000001;
        case REQUEST_NULL -> 0x2c000000;
      };
    }
  };

  /** The predefined handles jmpipool uses. */
  enum Predefined { COMM_WORLD, COMM_SELF, COMM_NULL, BYTE, INFO_NULL, ERRORS_RETURN, REQUEST_NULL }

  /** A symbol only Open MPI's library exports. */
  private static final String OPEN_MPI_MARKER = "ompi_mpi_comm_world";

  final MpiInstallation.Family family;
  /** The layout of a handle: where MPI takes one, and of the slot where it returns one. */
  final MemoryLayout handle;
  final int anySource;
  final long statusBytes;
  /** The offset of {@code MPI_SOURCE} in {@code MPI_Status}. */
  final long sourceOffset;

  Abi(MpiInstallation.Family family, MemoryLayout handle, int anySource, long statusBytes, long sourceOffset) {
    this.family = family;
    this.handle = handle;
    this.anySource = anySource;
    this.statusBytes = statusBytes;
    this.sourceOffset = sourceOffset;
  }

  /** Returns the value of a predefined handle in a loaded library. */
  abstract long predefined(SymbolLookup library, Predefined handle);

  /**
   * Tells a library's ABI from its symbols: only Open MPI exports its predefined objects.
   *
   * @return the ABI, or empty when the library exports no {@code MPI_Init_thread} at all
   */
  static Optional<Abi> of(SymbolLookup library) {
    if (library.find("MPI_Init_thread").isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(library.find(OPEN_MPI_MARKER).isPresent() ? OPEN_MPI : MPICH);
  }

  /**
   * Returns whether a library's own version string ({@code MPI_Get_library_version}) names an
   * implementation of this ABI.
   */
  boolean confirmedBy(String libraryVersion) {
    String text = libraryVersion.toLowerCase(java.util.Locale.ROOT);
    return this == OPEN_MPI
        ? text.contains("open mpi")
        : text.contains("mpich") || text.contains("intel(r) mpi") || text.contains("mvapich") || text.contains("cray");
  }

  /** Reads a handle MPI wrote into a slot. */
  long read(MemorySegment slot) {
    return this == OPEN_MPI ? slot.get(ValueLayout.ADDRESS, 0).address() : slot.get(ValueLayout.JAVA_INT, 0);
  }

  /** Writes a handle into a slot MPI reads (and may update, like a request's). */
  void write(MemorySegment slot, long value) {
    if (this == OPEN_MPI) {
      slot.set(ValueLayout.ADDRESS, 0, MemorySegment.ofAddress(value));
    } else {
      slot.set(ValueLayout.JAVA_INT, 0, (int) value);
    }
  }
}
