using System.IO.Pipelines;
using System.Net;
using FlowOrleans.Transport.Protocols.Framing;

namespace FlowOrleans.Transport.Protocols.Memory;

/// <summary>
/// One end of an in-process connection: two pipes shared crosswise with the other end, so bytes a side flushes
/// are directly the other side's input. Aborting behaves like a reset: both sides' pending and next operations are
/// cancelled, and the framing reports a reset to the side that did not abort.
/// </summary>
internal sealed class MemoryTransport : IPipeTransport
{
    private readonly Pipe _inputPipe;
    private readonly Pipe _outputPipe;

    private MemoryTransport(Pipe inputPipe, Pipe outputPipe, EndPoint localAddress, EndPoint remoteAddress)
    {
        _inputPipe = inputPipe;
        _outputPipe = outputPipe;
        LocalAddress = localAddress;
        RemoteAddress = remoteAddress;
    }

    public PipeReader Input => _inputPipe.Reader;

    public PipeWriter Output => _outputPipe.Writer;

    public EndPoint? LocalAddress { get; }

    public EndPoint? RemoteAddress { get; }

    public long? BytesSent => null;

    public static (MemoryTransport Client, MemoryTransport Server) CreatePair(
        FramingOptions options,
        EndPoint clientAddress,
        EndPoint serverAddress)
    {
        // Continuations go to the thread pool: inline scheduling between two in-process ends would let a
        // ping-pong recurse on one stack.
        var pipeOptions = new PipeOptions(
            pauseWriterThreshold: options.EffectiveInputPauseThreshold,
            resumeWriterThreshold: options.EffectiveInputResumeThreshold,
            readerScheduler: PipeScheduler.ThreadPool,
            writerScheduler: PipeScheduler.ThreadPool,
            minimumSegmentSize: options.MinimumSegmentSize,
            useSynchronizationContext: false);
        var clientToServer = new Pipe(pipeOptions);
        var serverToClient = new Pipe(pipeOptions);
        return (
            new MemoryTransport(serverToClient, clientToServer, clientAddress, serverAddress),
            new MemoryTransport(clientToServer, serverToClient, serverAddress, clientAddress));
    }

    public void Abort(Exception reason)
    {
        // Cancelling never completes a pipe end, so it is safe while either side is mid-call; a cancellation
        // with no operation pending applies to the next one.
        _inputPipe.Reader.CancelPendingRead();
        _outputPipe.Writer.CancelPendingFlush();
        _outputPipe.Reader.CancelPendingRead();
        _inputPipe.Writer.CancelPendingFlush();
    }

    public ValueTask DisposeAsync()
    {
        // The other side then sees the end of its input and its flushes report a closed transport.
        Input.Complete();
        Output.Complete();
        return default;
    }
}
