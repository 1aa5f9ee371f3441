using System.Globalization;

namespace FlowOrleans.Transport.Protocols.Framing;

/// <summary>
/// The failure state of one framed connection and the one way its failures become <see cref="FlowException"/>s, shared
/// by the pipe, WebSocket and flow framings so that every <see cref="IFramedConnection"/> reports alike. After
/// <see cref="IFramedConnection.Abort"/> or disposal everything is <see cref="FlowErrorCode.Aborted"/>, naming the
/// abort's reason; the caller's own cancellation is <see cref="FlowErrorCode.Aborted"/> too; any other failure is
/// <see cref="FlowErrorCode.Network"/> (or the <see cref="FlowException"/> it already was) and ends its direction for
/// good: the next read or write reports the same fault, since a stream that failed may have stopped inside a frame.
/// </summary>
/// <remarks>
/// Reads and writes each have a single caller (see <see cref="IFramedConnection"/>), so the direction faults need no
/// synchronization; abort and disposal may come from any thread.
/// </remarks>
internal sealed class FramedConnectionFaults(string protocol)
{
    private Exception? _abortReason;
    private int _disposed;
    private FlowException? _readFault;
    private FlowException? _writeFault;

    /// <summary>True once the connection was aborted.</summary>
    public bool IsAborted => Volatile.Read(ref _abortReason) is not null;

    /// <summary>True once the connection was aborted or disposed.</summary>
    public bool IsStopped => IsAborted || Volatile.Read(ref _disposed) != 0;

    /// <summary>What stops a read from starting (abort, disposal, an earlier read fault); null when nothing does.</summary>
    public FlowException? ReadBlocker => IsStopped ? Aborted() : _readFault;

    /// <summary>What stops a write from starting (abort, disposal, an earlier write fault); null when nothing does.</summary>
    public FlowException? WriteBlocker => IsStopped ? Aborted() : _writeFault;

    /// <summary>Records the abort. False when the connection was aborted or disposed before: nothing is left to stop.</summary>
    public bool TryAbort(Exception reason) =>
        Interlocked.CompareExchange(ref _abortReason, reason, null) is null && Volatile.Read(ref _disposed) == 0;

    /// <summary>Marks the connection disposed. False when it already was.</summary>
    public bool TryDispose() => Interlocked.Exchange(ref _disposed, 1) == 0;

    /// <summary>The default reason of an abort that was given none.</summary>
    public FlowException AbortedWithoutReason() => new(FlowErrorCode.Aborted, $"The {protocol} connection was aborted.");

    /// <summary>The error of every operation after an abort (naming its reason) or disposal.</summary>
    public FlowException Aborted()
    {
        Exception? reason = Volatile.Read(ref _abortReason);
        return reason is not null
            ? new FlowException(FlowErrorCode.Aborted, $"The {protocol} connection was aborted: {reason.Message}", reason)
            : new FlowException(FlowErrorCode.Aborted, $"The {protocol} connection is disposed.");
    }

    /// <summary>Ends the read direction with <paramref name="fault"/> (the first fault stays); returns it to throw.</summary>
    public FlowException ReadFault(FlowException fault)
    {
        _readFault ??= fault;
        return fault;
    }

    /// <summary>Ends the write direction with <paramref name="fault"/> (the first fault stays); returns it to throw.</summary>
    public FlowException WriteFault(FlowException fault)
    {
        _writeFault ??= fault;
        return fault;
    }

    /// <summary>Maps what a read threw to the error to report, ending the read direction when the failure is the stream's.</summary>
    /// <param name="cancellationEndsDirection">True where cancelling leaves the medium unusable (a WebSocket aborts itself).</param>
    public FlowException ReadFailure(Exception error, CancellationToken cancellationToken, bool cancellationEndsDirection = false) =>
        Failure(error, "read", cancellationEndsDirection, ref _readFault, cancellationToken);

    /// <summary>Maps what a write threw to the error to report, ending the write direction when the failure is the stream's.</summary>
    /// <param name="cancellationEndsDirection">True where cancelling leaves the medium unusable (a WebSocket aborts itself).</param>
    public FlowException WriteFailure(Exception error, CancellationToken cancellationToken, bool cancellationEndsDirection = false) =>
        Failure(error, "write", cancellationEndsDirection, ref _writeFault, cancellationToken);

    /// <summary>Rejects a frame length outside [0, <paramref name="maxFrameSize"/>] with <see cref="FlowErrorCode.BadArg"/>.</summary>
    public void CheckFrameLength(int length, int maxFrameSize)
    {
        if ((uint)length > (uint)maxFrameSize)
        {
            throw new FlowException(
                FlowErrorCode.BadArg,
                string.Create(CultureInfo.InvariantCulture, $"Frame of {length} bytes is outside [0, {maxFrameSize}] on this {protocol} connection."));
        }
    }

    /// <summary>The error of <see cref="IFramedConnection.CommitFrame"/> without a frame buffer to commit.</summary>
    public static FlowException CommitWithoutFrame() =>
        new(FlowErrorCode.BadState, "CommitFrame was called without a preceding GetFrameBuffer.");

    private FlowException Failure(
        Exception error, string operation, bool cancellationEndsDirection, ref FlowException? fault, CancellationToken cancellationToken)
    {
        if (IsStopped)
        {
            // Whatever the medium threw while we tore it down, the caller learns that it was torn down.
            return error is FlowException { Code: FlowErrorCode.Aborted } aborted ? aborted : Aborted();
        }

        if (error is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            var cancelled = new FlowException(
                FlowErrorCode.Aborted,
                cancellationEndsDirection
                    ? $"The {operation} on the {protocol} connection was cancelled, which ends that direction."
                    : $"The {operation} on the {protocol} connection was cancelled.",
                error);
            if (cancellationEndsDirection)
            {
                fault ??= cancelled;
            }

            return cancelled;
        }

        var failure = error as FlowException
            ?? new FlowException(FlowErrorCode.Network, $"The {operation} on the {protocol} connection failed: {error.Message}", error);
        fault ??= failure;
        return failure;
    }
}
