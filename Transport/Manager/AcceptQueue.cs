using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Transport.Manager;

/// <summary>
/// The manager's accept backlog. Connections hold this writer for their whole life, while StopListening must fail
/// the pending accepts and start a fresh backlog: so the writer forwards to whichever channel is current.
/// </summary>
internal sealed class AcceptQueue(int capacity) : ChannelWriter<IFlow>
{
    private Channel<IFlow> _current = NewChannel(capacity);

    public ChannelReader<IFlow> Reader => Volatile.Read(ref _current).Reader;

    public override bool TryWrite(IFlow item) => Volatile.Read(ref _current).Writer.TryWrite(item);

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
        => Volatile.Read(ref _current).Writer.WaitToWriteAsync(cancellationToken);

    public override bool TryComplete(Exception? error = null) => Volatile.Read(ref _current).Writer.TryComplete(error);

    /// <summary>Fails everything waiting on the current backlog (flows in it are disposed) and starts a new one.</summary>
    public void Reset(FlowException reason, bool final)
    {
        var old = Interlocked.Exchange(ref _current, NewChannel(capacity));
        if (final)
        {
            _current.Writer.TryComplete(reason);
        }

        old.Writer.TryComplete(reason);
        while (old.Reader.TryRead(out var flow))
        {
            _ = flow.DisposeAsync().AsTask();
        }
    }

    [SuppressMessage("Reliability", "CA2000", Justification = "Channels hold no unmanaged resources.")]
    private static Channel<IFlow> NewChannel(int capacity) => Channel.CreateBounded<IFlow>(new BoundedChannelOptions(capacity)
    {
        FullMode = BoundedChannelFullMode.Wait,
        SingleWriter = false,
        SingleReader = false,
    });
}
