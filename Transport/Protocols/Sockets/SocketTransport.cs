using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using FlowOrleans.Transport.Protocols.Framing;

namespace FlowOrleans.Transport.Protocols.Sockets;

/// <summary>
/// A connected stream socket exposed as two pipes: one receive loop fills the input pipe and one send loop drains
/// the output pipe, each flush leaving in a single (gather) send. Both pipes pause their writer at a threshold, so
/// a slow reader stops the socket being read and a slow network makes flushes wait.
/// </summary>
/// <remarks>
/// The application ends run inline: a received chunk resumes the reader on the receive loop's thread and a flush
/// performs the send on the flushing thread. That keeps a request/response round trip free of thread hops.
/// Resuming a paused writer goes through the thread pool so the two loops never recurse into each other.
/// </remarks>
internal sealed class SocketTransport : IPipeTransport
{
    private readonly Socket _socket;
    private readonly string _protocol;
    private readonly Pipe _inputPipe;
    private readonly Pipe _outputPipe;
    private readonly SocketReceiver _receiver = new();
    private readonly SocketSender _sender = new();
    private readonly int _minimumReceiveSize;
    private readonly TimeSpan _drainTimeout;
    private readonly bool _waitForData;
    private readonly Lock _closeLock = new();
    private bool _socketClosed;
    private Exception? _closeReason;
    private bool _aborted;
    private bool _sendFailed;
    private FlowException? _receiveError;
    private long _bytesSent;
    private long _sendOperations;
    private int _disposed;

    public SocketTransport(Socket socket, string protocol, FramingOptions options)
    {
        ArgumentNullException.ThrowIfNull(socket);
        ArgumentNullException.ThrowIfNull(options);

        _socket = socket;
        _protocol = protocol;
        _minimumReceiveSize = options.MinimumSegmentSize / 2;
        _drainTimeout = options.DrainTimeout;
        _waitForData = options.WaitForDataBeforeAllocatingBuffer;
        LocalAddress = Normalize(socket.LocalEndPoint);
        RemoteAddress = Normalize(socket.RemoteEndPoint);

        _inputPipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: options.EffectiveInputPauseThreshold,
            resumeWriterThreshold: options.EffectiveInputResumeThreshold,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.ThreadPool,
            minimumSegmentSize: options.MinimumSegmentSize,
            useSynchronizationContext: false));
        _outputPipe = new Pipe(new PipeOptions(
            pauseWriterThreshold: options.EffectiveOutputPauseThreshold,
            resumeWriterThreshold: options.EffectiveOutputResumeThreshold,
            readerScheduler: PipeScheduler.Inline,
            writerScheduler: PipeScheduler.ThreadPool,
            minimumSegmentSize: options.MinimumSegmentSize,
            useSynchronizationContext: false));

        ProcessingTask = RunAsync();
    }

    public PipeReader Input => _inputPipe.Reader;

    public PipeWriter Output => _outputPipe.Writer;

    public EndPoint? LocalAddress { get; }

    public EndPoint? RemoteAddress { get; }

    public long? BytesSent => Volatile.Read(ref _bytesSent);

    public FlowException? ReceiveError => Volatile.Read(ref _receiveError);

    /// <summary>Both loops; completes once the socket is closed and neither loop runs. Never faults.</summary>
    internal Task ProcessingTask { get; }

    /// <summary>Socket send operations so far: one per drained batch, however many frames it holds.</summary>
    internal long SendOperations => Volatile.Read(ref _sendOperations);

    /// <summary>Whether the socket handle is released, for tests.</summary>
    internal bool IsSocketClosed => _socket.SafeHandle.IsClosed;

    public void Abort(Exception reason)
    {
        Volatile.Write(ref _aborted, true);
        CloseSocket(reason);

        // The send loop may be waiting for data that will never come.
        _outputPipe.Reader.CancelPendingRead();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Completing the output lets the send loop drain what is buffered, then close the socket, which ends the
        // receive loop. A peer that stops reading must not hold disposal forever, hence the drain timeout.
        Input.Complete();
        Output.Complete();

        // After a failed send nothing is left to drain, and the application no longer reads what the receive loop
        // stayed open for: close now rather than wait for a peer that may never end its side.
        if (Volatile.Read(ref _sendFailed))
        {
            CloseSocket(null);
        }

        if (!ProcessingTask.IsCompleted)
        {
            using var drainTimer = new CancellationTokenSource(_drainTimeout);
            await using (drainTimer.Token.UnsafeRegister(
                static state => ((SocketTransport)state!).Abort(new TimeoutException("Sending the remaining bytes timed out.")),
                this).ConfigureAwait(false))
            {
                await ProcessingTask.ConfigureAwait(false);
            }
        }

        _receiver.Dispose();
        _sender.Dispose();
    }

    private async Task RunAsync()
    {
        // Start both loops before awaiting either; each catches its own errors.
        Task receiving = ReceiveLoopAsync();
        Task sending = SendLoopAsync();
        await receiving.ConfigureAwait(false);
        await sending.ConfigureAwait(false);

        // A failed send leaves the socket open for the receive loop to read to its end (see SendLoopAsync).
        CloseSocket(null);
    }

    private async Task ReceiveLoopAsync()
    {
        PipeWriter input = _inputPipe.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                if (_waitForData)
                {
                    await _receiver.WaitForDataAsync(_socket).ConfigureAwait(false);
                }

                Memory<byte> buffer = input.GetMemory(_minimumReceiveSize);
                int received = await _receiver.ReceiveAsync(_socket, buffer).ConfigureAwait(false);
                _receiver.Clear();
                if (received == 0)
                {
                    break; // The peer finished sending.
                }

                input.Advance(received);
                FlushResult flushed = await input.FlushAsync().ConfigureAwait(false);
                if (flushed.IsCompleted || flushed.IsCanceled)
                {
                    break; // The application stopped reading or the connection is closing.
                }
            }
        }
        catch (Exception e)
        {
            // A loop must never fault: every failure becomes the pipe's completion error.
            error = e;
        }
        finally
        {
            // A clean end of stream completes without error, so the framing can tell a close between frames from
            // a close inside one. A failure caused by our own close is reported as such, not as a network error.
            // Any other failure (the peer reset the connection after its last words) completes the pipe cleanly too
            // and is reported once what arrived before it was read (IPipeTransport.ReceiveError).
            FlowException? failure = error is null ? null : ToFlowException(Volatile.Read(ref _closeReason), error, "receive");
            if (failure is not null && !Volatile.Read(ref _aborted))
            {
                Volatile.Write(ref _receiveError, failure);
                input.Complete();
            }
            else
            {
                input.Complete(failure);
            }
        }
    }

    private async Task SendLoopAsync()
    {
        PipeReader output = _outputPipe.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await output.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                if (!buffer.IsEmpty)
                {
                    try
                    {
                        await _sender.SendAsync(_socket, buffer).ConfigureAwait(false);
                    }
                    finally
                    {
                        _sender.Clear();
                    }

                    Volatile.Write(ref _bytesSent, _bytesSent + buffer.Length);
                    Volatile.Write(ref _sendOperations, _sendOperations + 1);
                }

                output.AdvanceTo(buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (Exception e)
        {
            // A loop must never fault: every failure becomes the pipe's completion error.
            error = e;
        }
        finally
        {
            Exception? failure = error is null ? null : ToFlowException(Volatile.Read(ref _closeReason), error, "send");
            if (failure is not null && !Volatile.Read(ref _aborted))
            {
                // The peer is gone, but what it sent before going (its teardown) may wait in the socket's receive
                // queue, which closing would discard: stop sending only, and let the receive loop read to the end.
                Volatile.Write(ref _sendFailed, true);
                ShutdownSend();
            }
            else
            {
                CloseSocket(failure);
            }

            output.Complete(failure);

            // A receive loop paused on a full input pipe must wake up to notice the close.
            _inputPipe.Writer.CancelPendingFlush();
        }
    }

    private void ShutdownSend()
    {
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already reset or closed: the receive loop ends on its own.
        }
    }

    private void CloseSocket(Exception? reason)
    {
        lock (_closeLock)
        {
            if (_socketClosed)
            {
                return;
            }

            _socketClosed = true;
            Volatile.Write(ref _closeReason, reason);
        }

        try
        {
            // Shut down first so the peer sees an orderly end of stream after the bytes already sent.
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The peer may already be gone; closing is all that is left to do.
        }

        _socket.Dispose();
    }

    private FlowException ToFlowException(Exception? closeReason, Exception error, string operation)
    {
        if (closeReason is not null)
        {
            return closeReason as FlowException
                ?? new FlowException(FlowErrorCode.Aborted, $"The {_protocol} connection to {RemoteAddress} was closed: {closeReason.Message}", closeReason);
        }

        string detail = error is SocketException socketError ? socketError.SocketErrorCode.ToString() : error.Message;
        return new FlowException(FlowErrorCode.Network, $"The {operation} on the {_protocol} connection to {RemoteAddress} failed: {detail}.", error);
    }

    private static EndPoint? Normalize(EndPoint? endPoint) =>
        endPoint is IPEndPoint { Address.IsIPv4MappedToIPv6: true } mapped
            ? new IPEndPoint(mapped.Address.MapToIPv4(), mapped.Port)
            : endPoint;
}
