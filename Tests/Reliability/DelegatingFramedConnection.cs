using System.Net;
using FlowOrleans.Transport.Protocols;

namespace FlowOrleans.Tests.Reliability;

/// <summary>
/// A framed connection that passes everything to another one; tests override the calls they interfere with or watch.
/// </summary>
internal abstract class DelegatingFramedConnection(IFramedConnection inner) : IFramedConnection
{
    protected IFramedConnection Inner { get; } = inner;

    public string Protocol => Inner.Protocol;

    public EndPoint? LocalAddress => Inner.LocalAddress;

    public EndPoint? RemoteAddress => Inner.RemoteAddress;

    public int MaxFrameSize => Inner.MaxFrameSize;

    public long PendingWriteBytes => Inner.PendingWriteBytes;

    public virtual ValueTask<FrameReadResult> ReadFrameAsync(CancellationToken cancellationToken = default) => Inner.ReadFrameAsync(cancellationToken);

    public Memory<byte> GetFrameBuffer(int length) => Inner.GetFrameBuffer(length);

    public void CommitFrame() => Inner.CommitFrame();

    public ValueTask FlushAsync(CancellationToken cancellationToken = default) => Inner.FlushAsync(cancellationToken);

    public void Abort(Exception? reason = null) => Inner.Abort(reason);

    public virtual ValueTask DisposeAsync() => Inner.DisposeAsync();
}
