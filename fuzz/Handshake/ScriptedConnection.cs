using System.Net;
using FlowOrleans.Transport.Protocols;

namespace FlowOrleans.Fuzz.Handshake;

/// <summary>
/// An in-memory framed connection whose far end is a <see cref="PeerScript"/>: every read returns the script's next
/// frame at once (or the clean end of the stream when the script is done) and every write is kept, so the side under
/// test runs to its end synchronously, on the fuzzer's thread, with no timers or sockets to make runs differ.
/// </summary>
internal sealed class ScriptedConnection(PeerScript peer) : IFramedConnection
{
    private readonly List<byte[]> _written = [];
    private byte[]? _pending;
    private Exception? _aborted;

    public string Protocol => "memory";

    public EndPoint? LocalAddress => null;

    public EndPoint? RemoteAddress => null;

    public int MaxFrameSize => FramingOptions.DefaultMaxFrameSize;

    public long PendingWriteBytes => 0;

    /// <summary>The frames the side under test sent, in order.</summary>
    public IReadOnlyList<byte[]> Written => _written;

    public ValueTask<FrameReadResult> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfAborted();
        cancellationToken.ThrowIfCancellationRequested();
        var frame = peer.NextFrame(this);
        return ValueTask.FromResult(frame is null
            ? new FrameReadResult(default, isCompleted: true)
            : new FrameReadResult(new System.Buffers.ReadOnlySequence<byte>(frame), isCompleted: false));
    }

    public Memory<byte> GetFrameBuffer(int length)
    {
        if (length < 0 || length > MaxFrameSize)
        {
            throw new FlowException(FlowErrorCode.BadArg, $"A frame of {length} bytes is outside 0..{MaxFrameSize}.");
        }

        _pending = new byte[length];
        return _pending;
    }

    public void CommitFrame()
    {
        _written.Add(_pending ?? throw new InvalidOperationException("CommitFrame without GetFrameBuffer."));
        _pending = null;
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfAborted();
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled(cancellationToken) : default;
    }

    public void Abort(Exception? reason = null) => _aborted ??= reason ?? new FlowException(FlowErrorCode.Aborted, "Aborted.");

    public ValueTask DisposeAsync()
    {
        Abort();
        return default;
    }

    private void ThrowIfAborted()
    {
        if (_aborted is not null)
        {
            throw new FlowException(FlowErrorCode.Aborted, "The connection was aborted.", _aborted);
        }
    }
}
