using System.Buffers;
using FlowOrleans.Transport.Protocols;

namespace FlowOrleans.Tests.Connections;

/// <summary>
/// Wraps a framed connection so a test can make the peer go silent (frames stop arriving) or flip bits in frames it
/// sends, the way a broken network or an attacker would.
/// </summary>
internal sealed class FreezableFramedConnection(IFramedConnection inner) : IFramedConnection
{
    private readonly TaskCompletionSource _thaw = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _frozen;
    private Memory<byte> _frame;

    private (int Frame, int Offset, byte Mask)? _corruption;

    /// <summary>Flips bits (<paramref name="mask"/>) at <paramref name="offset"/> (negative: from the end) of sent frame number <paramref name="frame"/>.</summary>
    public FreezableFramedConnection CorruptAfter(int frame, int offset, byte mask)
    {
        _corruption = (frame, offset, mask);
        return this;
    }

    public int FramesSent { get; private set; }

    public string Protocol => inner.Protocol;

    public System.Net.EndPoint? LocalAddress => inner.LocalAddress;

    public System.Net.EndPoint? RemoteAddress => inner.RemoteAddress;

    public int MaxFrameSize => inner.MaxFrameSize;

    public long PendingWriteBytes => inner.PendingWriteBytes;

    /// <summary>Stops delivering received frames to the connection above (they stay in the pipe).</summary>
    public void Freeze() => _frozen = true;

    public async ValueTask<FrameReadResult> ReadFrameAsync(CancellationToken cancellationToken = default)
    {
        if (_frozen)
        {
            await _thaw.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }

        return await inner.ReadFrameAsync(cancellationToken).ConfigureAwait(false);
    }

    public Memory<byte> GetFrameBuffer(int length) => _frame = inner.GetFrameBuffer(length);

    public void CommitFrame()
    {
        // At or after the frame asked for: the writer loop may commit a health check between the caller reading
        // FramesSent and setting the corruption, and an exact match would then never come.
        if (_corruption is { } c && FramesSent >= c.Frame)
        {
            var offset = c.Offset < 0 ? _frame.Length + c.Offset : c.Offset;
            _frame.Span[offset] ^= c.Mask;
            _corruption = null;
        }

        FramesSent++;
        inner.CommitFrame();
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

    public void Abort(Exception? reason = null)
    {
        _thaw.TrySetResult();
        inner.Abort(reason);
    }

    public ValueTask DisposeAsync()
    {
        _thaw.TrySetResult();
        return inner.DisposeAsync();
    }
}
