using System.Net;

namespace FlowOrleans.Transport.Protocols.Faults;

/// <summary>A listener of the wrapped protocol whose accepted connections get their <see cref="FaultPlan"/>.</summary>
internal sealed class FaultListener(FaultProtocol owner, IProtocolListener inner, string protocol) : IProtocolListener
{
    public string Protocol { get; } = protocol;

    public string Address => inner.Address;

    public EndPoint? LocalAddress => inner.LocalAddress;

    public async ValueTask<IFramedConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        var link = await inner.AcceptAsync(cancellationToken).ConfigureAwait(false);
        return await owner.WrapAsync(link, Protocol, dialed: false, inner.Address).ConfigureAwait(false);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
