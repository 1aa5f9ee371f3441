using System.Net;

namespace FlowOrleans.Transport.Protocols;

/// <summary>
/// A connection that carries whole frames (byte messages) in order: the C# form of Vanadium's <c>flow.Conn</c>.
/// Over byte streams each frame is sent as a 4-byte big-endian length prefix followed by the payload.
/// </summary>
/// <remarks>
/// One reader and one writer may run concurrently; neither side is thread-safe on its own.
/// </remarks>
public interface IFramedConnection : IAsyncDisposable
{
    /// <summary>The protocol the connection was dialed or accepted with, e.g. <c>tcp</c>, <c>unix</c>, <c>memory</c>.</summary>
    string Protocol { get; }

    /// <summary>The local network address, when the protocol has one.</summary>
    EndPoint? LocalAddress { get; }

    /// <summary>The remote network address, when the protocol has one.</summary>
    EndPoint? RemoteAddress { get; }

    /// <summary>The largest payload, in bytes, this connection sends or accepts.</summary>
    int MaxFrameSize { get; }

    /// <summary>
    /// Reads the next frame. The payload is the connection's own buffer memory (no copy): it stays valid until the
    /// next call to <see cref="ReadFrameAsync"/> or disposal.
    /// </summary>
    /// <returns>
    /// The next frame, or a result with <see cref="FrameReadResult.IsCompleted"/> set and an empty payload when the
    /// peer closed cleanly between frames.
    /// </returns>
    /// <exception cref="FlowException">
    /// <see cref="FlowErrorCode.BadArg"/> for a length prefix above <see cref="MaxFrameSize"/> (raised before the frame
    /// is buffered); <see cref="FlowErrorCode.Network"/> for an end of stream inside a frame or a transport error;
    /// <see cref="FlowErrorCode.Aborted"/> after <see cref="Abort"/>, disposal or cancellation.
    /// </exception>
    ValueTask<FrameReadResult> ReadFrameAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns exactly <paramref name="length"/> bytes of output buffer for the next frame's payload. Fill it, then
    /// call <see cref="CommitFrame"/>. Calling again before committing discards the uncommitted buffer.
    /// </summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.BadArg"/> when <paramref name="length"/> is negative or above <see cref="MaxFrameSize"/>.</exception>
    Memory<byte> GetFrameBuffer(int length);

    /// <summary>Commits the frame obtained from <see cref="GetFrameBuffer"/>; it is sent by the next <see cref="FlushAsync"/>.</summary>
    void CommitFrame();

    /// <summary>
    /// Sends all committed frames, coalesced into as few sends as possible. Completes once the bytes are handed to
    /// the transport, waiting only when the transport's output buffer is above its pause threshold.
    /// </summary>
    /// <exception cref="FlowException"><see cref="FlowErrorCode.Network"/> for transport errors; <see cref="FlowErrorCode.Aborted"/> after <see cref="Abort"/>, disposal or cancellation.</exception>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);

    /// <summary>Bytes (prefixes included) committed but not yet handed to the operating system, for back-pressure and metrics.</summary>
    long PendingWriteBytes { get; }

    /// <summary>
    /// Stops both directions at once. Pending and later reads and flushes fail with <see cref="FlowErrorCode.Aborted"/>.
    /// Safe to call from any thread, any number of times; the connection must still be disposed.
    /// </summary>
    void Abort(Exception? reason = null);
}
