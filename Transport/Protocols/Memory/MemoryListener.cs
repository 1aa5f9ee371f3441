using System.Net;
using System.Threading.Channels;

namespace FlowOrleans.Transport.Protocols.Memory;

/// <summary>A named in-process listener: dials hand it their server end through a bounded accept queue.</summary>
internal sealed class MemoryListener : IProtocolListener
{
    private readonly Channel<IFramedConnection> _backlog;
    private readonly Action<MemoryListener> _onDisposed;
    private int _disposed;

    public MemoryListener(string protocol, string address, int backlog, Action<MemoryListener> onDisposed)
    {
        Protocol = protocol;
        Address = address;
        LocalAddress = new MemoryEndPoint(address);
        _onDisposed = onDisposed;
        _backlog = Channel.CreateBounded<IFramedConnection>(new BoundedChannelOptions(backlog)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleWriter = false,
            SingleReader = false,
        });
    }

    public string Protocol { get; }

    public string Address { get; }

    public EndPoint? LocalAddress { get; }

    public async ValueTask<IFramedConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            throw Closed(null);
        }

        try
        {
            return await _backlog.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (ChannelClosedException e)
        {
            throw Closed(e);
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested)
        {
            throw new FlowException(FlowErrorCode.Aborted, $"Accepting on the {Protocol} listener \"{Address}\" was cancelled.", e);
        }
    }

    /// <summary>Queues a dialed connection's server end; false when the listener closed first.</summary>
    public async ValueTask<bool> OfferAsync(IFramedConnection serverEnd, CancellationToken cancellationToken)
    {
        try
        {
            await _backlog.Writer.WriteAsync(serverEnd, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ChannelClosedException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _backlog.Writer.TryComplete();
        _onDisposed(this);

        // Connections dialed but never accepted would otherwise leave their dialers waiting forever.
        while (_backlog.Reader.TryRead(out IFramedConnection? orphan))
        {
            await orphan.DisposeAsync().ConfigureAwait(false);
        }
    }

    private FlowException Closed(Exception? inner) =>
        new(FlowErrorCode.Aborted, $"The {Protocol} listener \"{Address}\" is closed.", inner);
}
