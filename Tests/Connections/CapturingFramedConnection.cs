using System.Net;
using FlowOrleans.Transport.Protocols;
using FlowOrleans.Transport.Records;

namespace FlowOrleans.Tests.Connections;

/// <summary>Keeps every committed frame; a flush completes at once (or fails, when told to).</summary>
internal sealed class CapturingFramedConnection : IFramedConnection
{
    private byte[] _current = [];
    private int _flushes;

    public List<byte[]> Frames { get; } = [];

    public int Flushes => Volatile.Read(ref _flushes);

    public Exception? FailFlushes { get; set; }

    public string Protocol => "capture";

    public EndPoint? LocalAddress => null;

    public EndPoint? RemoteAddress => null;

    public int MaxFrameSize => RecordLayout.MaxFrame;

    public long PendingWriteBytes => 0;

    public ValueTask<FrameReadResult> ReadFrameAsync(CancellationToken cancellationToken = default) => throw new NotSupportedException();

    public Memory<byte> GetFrameBuffer(int length) => _current = new byte[length];

    public void CommitFrame() => Frames.Add(_current);

    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (FailFlushes is { } failure)
        {
            return ValueTask.FromException(failure);
        }

        Interlocked.Increment(ref _flushes);
        return ValueTask.CompletedTask;
    }

    public void Abort(Exception? reason = null)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
