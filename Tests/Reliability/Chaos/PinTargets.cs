using System.Net;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using static FlowOrleans.Tests.Connections.ConnectionTestKit;

namespace FlowOrleans.Tests.Reliability.Chaos;

/// <summary>
/// The peers the chaos cluster's pins keep connections to: one flow manager outside the cluster per pin, so the
/// connections a peer holds are exactly that pin's (a silo shares one connection among its pins to the same peer,
/// so a shared peer could not tell one pin held twice from two pins held once).
/// </summary>
internal sealed class PinTargets : IAsyncDisposable
{
    private readonly List<(FlowManager Manager, Endpoint Endpoint)> _targets = [];

    public int Count => _targets.Count;

    /// <summary>Starts <paramref name="count"/> peers listening on <paramref name="address"/>.</summary>
    public static async Task<PinTargets> StartAsync(int count, IPAddress address, CancellationToken cancellationToken)
    {
        var targets = new PinTargets();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var manager = new FlowManager(new FlowManagerOptions { Principal = NewPrincipal($"chaos-pin-{i}") });
                try
                {
                    var listener = await manager.ListenAsync("tcp", $"{address}:0", cancellationToken);
                    targets._targets.Add((manager, listener.Endpoint));
                }
                catch
                {
                    await manager.DisposeAsync();
                    throw;
                }
            }
        }
        catch
        {
            await targets.DisposeAsync();
            throw;
        }

        return targets;
    }

    public Endpoint Endpoint(int pin) => _targets[pin].Endpoint;

    /// <summary>The routing IDs of the silos with an open connection to pin <paramref name="pin"/>'s peer, one per connection.</summary>
    public IReadOnlyList<RoutingId> OpenConnections(int pin) =>
        _targets[pin].Manager.Connections.Where(c => !c.Closed.IsCompleted).Select(c => c.RemoteEndpoint.RoutingId).ToArray();

    public async ValueTask DisposeAsync()
    {
        foreach (var (manager, _) in _targets)
        {
            await manager.DisposeAsync();
        }
    }
}
