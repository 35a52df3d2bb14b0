package org.jmpipool.internal.transport.ffm;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jmpipool.internal.transport.MpiBindings;
import org.jmpipool.internal.transport.MpiInstallation;
import org.jmpipool.internal.transport.TransportException;

/**
 * {@link MpiBinding} over the MPI library installed on the machine, called through
 * {@code java.lang.foreign}: Open MPI, or a library of the MPICH family (MPICH, Intel MPI, Cray
 * MPICH, MVAPICH), told apart by their symbols ({@link Abi}) and confirmed by the library's own
 * version string. No Java bindings and no native code of jmpipool are needed.
 *
 * <p>Every handle is a {@code long} in Java; the downcalls convert it to the library's pointer or
 * integer. Out-parameters go through a small native scratch area per calling thread. The
 * non-blocking calls of the message path are linked as critical (no thread-state transition).
 */
public final class ForeignBinding implements MpiBindings.ForeignLibrary {

  private static final Linker LINKER = Linker.nativeLinker();
  /** Stands for a handle among a function's parameters: a pointer or an int, by ABI. */
  private static final Object HANDLE = new Object();
  private static final MethodHandle OF_ADDRESS;
  private static final int VERSION_BYTES = 8192;
  private static final int NAME_BYTES = 256;
  private static final int ERROR_STRING_BYTES = 1024;
  private static final int SUCCESS = 0;

  static {
    try {
      OF_ADDRESS = MethodHandles.lookup().findStatic(MemorySegment.class, "ofAddress",
          MethodType.methodType(MemorySegment.class, long.class));
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Path file;
  private final Abi abi;
  private final SymbolLookup library;
  private final String version;
  private final long commWorld;
  private final long commSelf;
  private final long commNull;
  private final long byteType;
  private final long infoNull;
  private final long errorsReturn;
  private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);
  private final List<String> missing = new ArrayList<>();

  private final Downcall getLibraryVersion;
  private final Downcall initThread;
  private final Downcall finalizeMpi;
  private final Downcall commDup;
  private final Downcall commFree;
  private final Downcall commDisconnect;
  private final Downcall commRank;
  private final Downcall commSize;
  private final Downcall getProcessorName;
  private final Downcall commSetErrhandler;
  private final Downcall commSpawn;
  private final Downcall intercommMerge;
  private final Downcall commGetParent;
  private final Downcall isend;
  private final Downcall send;
  private final Downcall test;
  private final Downcall improbe;
  private final Downcall mrecv;
  private final Downcall getCount;
  private final Downcall abort;
  private final Downcall infoCreate;
  private final Downcall infoSet;
  private final Downcall infoFree;
  private final Downcall errorString;
  /** Every function bound, for {@link #prepareCalls()}. */
  private final List<Downcall> downcalls = new ArrayList<>();

  /** Native memory for out-parameters, one per calling thread. */
  private final class Scratch {
    final MemorySegment handle;
    final MemorySegment number;
    final MemorySegment flag;
    final MemorySegment status;

    Scratch() {
      Arena arena = Arena.ofAuto();
      handle = arena.allocate(8, 8);
      number = arena.allocate(4, 4);
      flag = arena.allocate(4, 4);
      status = arena.allocate(64, 8);
    }
  }

  private ForeignBinding(Path file, SymbolLookup library, Abi abi) {
    this.file = file;
    this.library = library;
    this.abi = abi;
    Linker.Option critical = Linker.Option.critical(false);
    getLibraryVersion = bind("MPI_Get_library_version", ADDRESS, ADDRESS);
    initThread = bind("MPI_Init_thread", ADDRESS, ADDRESS, JAVA_INT, ADDRESS);
    finalizeMpi = bind("MPI_Finalize");
    commDup = bind("MPI_Comm_dup", HANDLE, ADDRESS);
    commFree = bind("MPI_Comm_free", ADDRESS);
    commDisconnect = bind("MPI_Comm_disconnect", ADDRESS);
    commRank = bind("MPI_Comm_rank", HANDLE, ADDRESS);
    commSize = bind("MPI_Comm_size", HANDLE, ADDRESS);
    getProcessorName = bind("MPI_Get_processor_name", ADDRESS, ADDRESS);
    commSetErrhandler = bind("MPI_Comm_set_errhandler", HANDLE, HANDLE);
    commSpawn = bind("MPI_Comm_spawn", ADDRESS, ADDRESS, JAVA_INT, HANDLE, JAVA_INT, HANDLE, ADDRESS, ADDRESS);
    intercommMerge = bind("MPI_Intercomm_merge", HANDLE, JAVA_INT, ADDRESS);
    commGetParent = bind("MPI_Comm_get_parent", ADDRESS);
    isend = link("MPI_Isend", critical, ADDRESS, JAVA_INT, HANDLE, JAVA_INT, JAVA_INT, HANDLE, ADDRESS);
    send = bind("MPI_Send", ADDRESS, JAVA_INT, HANDLE, JAVA_INT, JAVA_INT, HANDLE);
    test = link("MPI_Test", critical, ADDRESS, ADDRESS, ADDRESS);
    improbe = link("MPI_Improbe", critical, JAVA_INT, JAVA_INT, HANDLE, ADDRESS, ADDRESS, ADDRESS);
    mrecv = bind("MPI_Mrecv", ADDRESS, JAVA_INT, HANDLE, ADDRESS, ADDRESS);
    getCount = link("MPI_Get_count", critical, ADDRESS, HANDLE, ADDRESS);
    abort = bind("MPI_Abort", HANDLE, JAVA_INT);
    infoCreate = bind("MPI_Info_create", ADDRESS);
    infoSet = bind("MPI_Info_set", HANDLE, ADDRESS, ADDRESS);
    infoFree = bind("MPI_Info_free", ADDRESS);
    errorString = bind("MPI_Error_string", JAVA_INT, ADDRESS, ADDRESS);
    if (abi == Abi.OPEN_MPI) {
      for (String symbol : new String[] {"ompi_mpi_comm_world", "ompi_mpi_comm_self", "ompi_mpi_comm_null",
          "ompi_mpi_byte", "ompi_mpi_info_null", "ompi_mpi_errors_return", "ompi_request_null"}) {
        if (library.find(symbol).isEmpty()) {
          missing.add(symbol);
        }
      }
    }
    if (!missing.isEmpty()) {
      throw new TransportException(file + " is not a usable MPI library of the " + abi.family.title() + " family: it lacks " + missing);
    }
    commWorld = abi.predefined(library, Abi.Predefined.COMM_WORLD);
    commSelf = abi.predefined(library, Abi.Predefined.COMM_SELF);
    commNull = abi.predefined(library, Abi.Predefined.COMM_NULL);
    byteType = abi.predefined(library, Abi.Predefined.BYTE);
    infoNull = abi.predefined(library, Abi.Predefined.INFO_NULL);
    errorsReturn = abi.predefined(library, Abi.Predefined.ERRORS_RETURN);
    version = readLibraryVersion();
    if (!abi.confirmedBy(version)) {
      throw new TransportException(file + " looks like " + abi.family.title() + " by its symbols, but calls itself \""
          + firstLine(version) + "\": an MPI jmpipool does not know");
    }
  }

  /**
   * Loads an MPI library and checks that jmpipool can use it: a known ABI, every function it
   * calls, a version string that agrees. MPI is not initialized.
   *
   * @param file the library, such as {@code /usr/lib/x86_64-linux-gnu/libmpi.so.40}
   * @return the binding
   * @throws TransportException in one line naming the file (and its version string when it has one)
   */
  public static ForeignBinding load(Path file) {
    keepUcxFromHandlingSignals();
    SymbolLookup library;
    try {
      library = SymbolLookup.libraryLookup(file, Arena.global());
    } catch (IllegalArgumentException e) {
      throw new TransportException("cannot load " + file + ": " + e.getMessage(), e);
    }
    Abi abi = Abi.of(library).orElseThrow(() -> new TransportException(file + " is not an MPI library"
        + " (it has no MPI_Init_thread)"));
    return new ForeignBinding(file, library, abi);
  }

  @Override
  public Path file() {
    return file;
  }

  @Override
  public MpiInstallation.Family family() {
    return abi.family;
  }

  @Override
  public String description() {
    return firstLine(version) + " (" + file + ") through java.lang.foreign";
  }

  @Override
  public String libraryVersion() {
    return version;
  }

  private String readLibraryVersion() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment text = arena.allocate(VERSION_BYTES);
      MemorySegment length = arena.allocate(JAVA_INT);
      check("MPI_Get_library_version", (int) getLibraryVersion.handle().invokeExact(text, length));
      return text.getString(0).strip();
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw new TransportException("calling MPI_Get_library_version in " + file + " failed: " + e, e);
    }
  }

  @Override
  public int initThreadMultiple() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment provided = arena.allocate(JAVA_INT);
      check("MPI initialization", (int) initThread.handle().invokeExact(MemorySegment.NULL, MemorySegment.NULL, 3, provided));
      return provided.get(JAVA_INT, 0);
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Init_thread", e);
    }
  }

  /**
   * UCX, under MPICH and under Open MPI's UCX layer, installs a SIGSEGV handler that kills the
   * JVM, which uses SIGSEGV itself (an implicit null check in compiled code is one): it is told to
   * handle no signals, unless the user chose otherwise. UCX reads this when its library is
   * loaded, so before the MPI library is.
   */
  private static void keepUcxFromHandlingSignals() {
    MemorySegment setenv = LINKER.defaultLookup().find("setenv").orElse(null);
    if (setenv == null) {
      return;
    }
    MethodHandle call = LINKER.downcallHandle(setenv, FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
    try (Arena arena = Arena.ofConfined()) {
      int ignored = (int) call.invokeExact(arena.allocateFrom("UCX_ERROR_SIGNALS"), arena.allocateFrom(""), 0);
    } catch (Throwable e) {
      throw new IllegalStateException("setenv failed", e);
    }
  }

  @Override
  public void prepareCalls() {
    downcalls.forEach(Downcall::handle);
  }

  @Override
  public void finalizeMpi() {
    try {
      check("MPI_Finalize", (int) finalizeMpi.handle().invokeExact());
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Finalize", e);
    }
  }

  @Override
  public Comm world() {
    return new Communicator(commWorld);
  }

  @Override
  public Comm self() {
    return new Communicator(commSelf);
  }

  @Override
  public int anySource() {
    return abi.anySource;
  }

  @Override
  public Comm dup(Comm comm) {
    Scratch out = scratch.get();
    try {
      check("MPI_Comm_dup", (int) commDup.handle().invokeExact(handle(comm), out.handle));
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Comm_dup", e);
    }
    return new Communicator(abi.read(out.handle));
  }

  @Override
  public void free(Comm comm) {
    freeing("MPI_Comm_free", commFree, comm);
  }

  @Override
  public void disconnect(Comm comm) {
    freeing("MPI_Comm_disconnect", commDisconnect, comm);
  }

  /** Calls a function that takes a communicator by reference, to set it to null. */
  private void freeing(String name, Downcall function, Comm comm) {
    Scratch out = scratch.get();
    abi.write(out.handle, handle(comm));
    try {
      check(name, (int) function.handle().invokeExact(out.handle));
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected(name, e);
    }
  }

  @Override
  public int rank(Comm comm) {
    return number("MPI_Comm_rank", commRank, comm);
  }

  @Override
  public int size(Comm comm) {
    return number("MPI_Comm_size", commSize, comm);
  }

  private int number(String name, Downcall function, Comm comm) {
    Scratch out = scratch.get();
    try {
      check(name, (int) function.handle().invokeExact(handle(comm), out.number));
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected(name, e);
    }
    return out.number.get(JAVA_INT, 0);
  }

  @Override
  public String processorName() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment name = arena.allocate(NAME_BYTES);
      MemorySegment length = arena.allocate(JAVA_INT);
      check("MPI_Get_processor_name", (int) getProcessorName.handle().invokeExact(name, length));
      return name.getString(0);
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Get_processor_name", e);
    }
  }

  @Override
  public void setErrorsReturn(Comm comm) {
    try {
      check("MPI_Comm_set_errhandler", (int) commSetErrhandler.handle().invokeExact(handle(comm), errorsReturn));
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Comm_set_errhandler", e);
    }
  }

  @Override
  public Comm spawn(String command, List<String> arguments, int processes, Map<String, String> info) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment argv = arena.allocate(ADDRESS, arguments.size() + 1L);
      for (int i = 0; i < arguments.size(); i++) {
        argv.setAtIndex(ADDRESS, i, arena.allocateFrom(arguments.get(i)));
      }
      argv.setAtIndex(ADDRESS, arguments.size(), MemorySegment.NULL);
      MemorySegment infoSlot = arena.allocate(8, 8);
      check("MPI_Info_create", (int) infoCreate.handle().invokeExact(infoSlot));
      long hints = abi.read(infoSlot);
      for (Map.Entry<String, String> hint : info.entrySet()) {
        check("MPI_Info_set", (int) infoSet.handle().invokeExact(hints, arena.allocateFrom(hint.getKey()),
            arena.allocateFrom(hint.getValue())));
      }
      MemorySegment children = arena.allocate(8, 8);
      MemorySegment errors = arena.allocate(JAVA_INT, processes);
      int status = (int) commSpawn.handle().invokeExact(arena.allocateFrom(command), argv, processes, hints, 0, commSelf,
          children, errors);
      check("MPI_Info_free", (int) infoFree.handle().invokeExact(infoSlot));
      if (status != SUCCESS) {
        throw new TransportException("MPI could not start " + processes + " workers: " + errorText(status));
      }
      for (int i = 0; i < processes; i++) {
        int error = errors.getAtIndex(JAVA_INT, i);
        if (error != SUCCESS) {
          throw new TransportException("worker " + (i + 1) + " of " + processes + " could not be started: "
              + errorText(error));
        }
      }
      return new Communicator(abi.read(children));
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Comm_spawn", e);
    }
  }

  @Override
  public Comm merge(Comm intercomm, boolean high) {
    Scratch out = scratch.get();
    try {
      check("MPI_Intercomm_merge", (int) intercommMerge.handle().invokeExact(handle(intercomm), high ? 1 : 0, out.handle));
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Intercomm_merge", e);
    }
    return new Communicator(abi.read(out.handle));
  }

  @Override
  public Comm parent() {
    Scratch out = scratch.get();
    try {
      check("MPI_Comm_get_parent", (int) commGetParent.handle().invokeExact(out.handle));
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Comm_get_parent", e);
    }
    long parent = abi.read(out.handle);
    return parent == commNull ? null : new Communicator(parent);
  }

  @Override
  public Request isend(ByteBuffer buffer, int length, int destination, int tag, Comm comm) {
    Scratch out = scratch.get();
    try {
      check("MPI_Isend", (int) isend.handle().invokeExact(whole(buffer), length, byteType, destination, tag,
          handle(comm), out.handle));
    } catch (TransportException e) {
      throw new TransportException("sending " + length + " bytes to rank " + destination + " failed: "
          + e.getMessage(), e);
    } catch (Throwable e) {
      throw unexpected("MPI_Isend", e);
    }
    return new Pending(abi.read(out.handle));
  }

  /** A send in progress: its request handle. */
  private final class Pending implements Request {
    private final long request;

    Pending(long request) {
      this.request = request;
    }

    @Override
    public boolean test() {
      Scratch out = scratch.get();
      abi.write(out.handle, request);
      try {
        check("a send (MPI_Test)", (int) test.handle().invokeExact(out.handle, out.flag, out.status));
      } catch (TransportException e) {
        throw e;
      } catch (Throwable e) {
        throw unexpected("MPI_Test", e);
      }
      return out.flag.get(JAVA_INT, 0) != 0;
    }
  }

  @Override
  public void send(ByteBuffer buffer, int length, int destination, int tag, Comm comm) {
    try {
      check("MPI_Send", (int) send.handle().invokeExact(whole(buffer), length, byteType, destination, tag,
          handle(comm)));
    } catch (TransportException e) {
      throw new TransportException("sending " + length + " bytes to rank " + destination + " failed: "
          + e.getMessage(), e);
    } catch (Throwable e) {
      throw unexpected("MPI_Send", e);
    }
  }

  @Override
  public Matched improbe(int source, int tag, Comm comm) {
    Scratch out = scratch.get();
    try {
      check("probing for a message (MPI_Improbe)",
          (int) improbe.handle().invokeExact(source, tag, handle(comm), out.flag, out.handle, out.status));
      if (out.flag.get(JAVA_INT, 0) == 0) {
        return null;
      }
      check("MPI_Get_count", (int) getCount.handle().invokeExact(out.status, byteType, out.number));
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Improbe", e);
    }
    return new Message(out.status.get(JAVA_INT, abi.sourceOffset), out.number.get(JAVA_INT, 0), abi.read(out.handle));
  }

  /** A matched message: its sender, length and message handle. */
  private final class Message implements Matched {
    private final int source;
    private final int length;
    private final long message;

    Message(int source, int length, long message) {
      this.source = source;
      this.length = length;
      this.message = message;
    }

    @Override
    public int source() {
      return source;
    }

    @Override
    public int length() {
      return length;
    }

    @Override
    public void receive(ByteBuffer into) {
      Scratch out = scratch.get();
      abi.write(out.handle, message);
      try {
        check("receiving a message (MPI_Mrecv)",
            (int) mrecv.handle().invokeExact(whole(into), length, byteType, out.handle, out.status));
      } catch (TransportException e) {
        throw e;
      } catch (Throwable e) {
        throw unexpected("MPI_Mrecv", e);
      }
    }
  }

  @Override
  public void abort(Comm comm, int status) {
    try {
      check("MPI_Abort", (int) abort.handle().invokeExact(handle(comm), status));
    } catch (TransportException e) {
      throw e;
    } catch (Throwable e) {
      throw unexpected("MPI_Abort", e);
    }
  }

  /** A communicator: its handle. */
  private record Communicator(long handle) implements Comm {
  }

  /** A direct buffer's memory from index 0: MPI gets its address, whatever the buffer's position. */
  private static MemorySegment whole(ByteBuffer buffer) {
    return MemorySegment.ofBuffer(buffer.duplicate().clear());
  }

  private static long handle(Comm comm) {
    return ((Communicator) comm).handle();
  }

  /**
   * Finds a function whose handle parameters take a {@code long}, whatever the ABI; every MPI
   * function returns an int. A missing function is noted, and reported with the others.
   */
  private Downcall bind(String name, Object... parameters) {
    return link(name, null, parameters);
  }

  private Downcall link(String name, Linker.Option option, Object... parameters) {
    MemorySegment symbol = library.find(name).orElse(null);
    if (symbol == null) {
      missing.add(name);
      return null;
    }
    Downcall downcall = new Downcall(symbol, option, parameters);
    downcalls.add(downcall);
    return downcall;
  }

  /**
   * A function of the library, whose method handle is made on its first call: making one costs
   * milliseconds, and a rank calls only some of the functions (spawning, for one, only a
   * spawning master), so making them all at once would add a tenth of a second to every start.
   */
  private final class Downcall {
    private final MemorySegment symbol;
    private final Linker.Option option;
    private final Object[] parameters;
    private volatile MethodHandle handle;

    Downcall(MemorySegment symbol, Linker.Option option, Object[] parameters) {
      this.symbol = symbol;
      this.option = option;
      this.parameters = parameters;
    }

    MethodHandle handle() {
      MethodHandle made = handle;
      if (made == null) {
        made = make();
        handle = made;
      }
      return made;
    }

    private MethodHandle make() {
      MemoryLayout[] layouts = new MemoryLayout[parameters.length];
      for (int i = 0; i < parameters.length; i++) {
        layouts[i] = parameters[i] == HANDLE ? abi.handle : (MemoryLayout) parameters[i];
      }
      FunctionDescriptor descriptor = FunctionDescriptor.of(JAVA_INT, layouts);
      MethodHandle function = option == null ? LINKER.downcallHandle(symbol, descriptor)
          : LINKER.downcallHandle(symbol, descriptor, option);
      for (int i = 0; i < parameters.length; i++) {
        if (parameters[i] != HANDLE) {
          continue;
        }
        function = abi == Abi.OPEN_MPI
            ? MethodHandles.filterArguments(function, i, OF_ADDRESS)
            : MethodHandles.explicitCastArguments(function, function.type().changeParameterType(i, long.class));
      }
      return function;
    }
  }

  private void check(String what, int status) {
    if (status != SUCCESS) {
      throw new TransportException(what + " failed: " + errorText(status));
    }
  }

  /**
   * MPI's words for an error code, in one line: MPICH gives a stack of lines, whose first says
   * the class of error and whose last what went wrong.
   */
  private String errorText(int code) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment text = arena.allocate(ERROR_STRING_BYTES);
      MemorySegment length = arena.allocate(JAVA_INT);
      if ((int) errorString.handle().invokeExact(code, text, length) == SUCCESS) {
        List<String> lines = text.getString(0).lines().map(String::strip).filter(line -> !line.isEmpty()).toList();
        if (lines.isEmpty()) {
          return "MPI error " + code;
        }
        String first = lines.get(0).replaceFirst(",? *error stack:$", "");
        String last = lines.get(lines.size() - 1);
        String cause = lines.size() > 1 ? ": " + last.substring(last.indexOf("): ") < 0 ? 0 : last.indexOf("): ") + 3) : "";
        return first + cause + " (MPI error " + code + ")";
      }
    } catch (Throwable e) {
      // The code alone, then.
    }
    return "MPI error " + code;
  }

  private TransportException unexpected(String function, Throwable e) {
    return new TransportException("calling " + function + " in " + file + " failed: " + e, e);
  }

  private static String firstLine(String text) {
    int end = text.indexOf('\n');
    return (end < 0 ? text : text.substring(0, end)).strip();
  }
}
