using System.Collections.Concurrent;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// Tells the cluster which routing IDs this silo reaches: the first connection to a routing ID and peer key registers
/// the silo in that ID's <see cref="IRoutingIdGrain"/> (with the key and the blessing names the silo accepted) and in
/// the silo's own <see cref="ISiloRoutesGrain"/> index; the last one to close unregisters it. A stopping silo leaves its registrations to the survivors' purge (<see cref="MembershipWatcher"/>).
/// </summary>
internal sealed partial class RoutingIdRegistrar : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly ConcurrentDictionary<object, (RoutingId RoutingId, string PeerKey)> _registered = new();
    private readonly IGrainFactory _grains;
    private readonly string _siloKey;
    private readonly ILogger _logger;
    private volatile bool _stopping;

    public RoutingIdRegistrar(IGrainFactory grains, ILocalSiloDetails siloDetails, ILogger<RoutingIdRegistrar> logger)
    {
        ArgumentNullException.ThrowIfNull(siloDetails);
        _grains = grains;
        _siloKey = SiloKeys.ToKey(siloDetails.SiloAddress);
        _logger = logger;
    }

    public void Participate(ISiloLifecycle lifecycle)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        lifecycle.Subscribe(nameof(RoutingIdRegistrar), SiloFlowStages.State, _ => Task.CompletedTask, StopAsync);
    }

    /// <summary>Connections registered for <paramref name="routingId"/> now; for tests.</summary>
    internal int CountFor(RoutingId routingId) => _registered.Values.Count(r => r.RoutingId == routingId);

    internal Task StopAsync(CancellationToken cancellationToken)
    {
        // Connections close as the transport stops; unregistering each would only slow the shutdown.
        _stopping = true;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Registers this silo for the peer of <paramref name="connection"/>, once per connection, and unregisters it when
    /// the last connection to that peer closes. A failure is logged: the flow works without the registration.
    /// </summary>
    public Task RegisterAsync(IManagedConnection connection)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var key = connection.RemoteBlessings.PublicKey is { } publicKey ? Convert.ToBase64String(publicKey.Bytes.Span) : "";
        return RegisterAsync(connection, new RoutingIdPeer([connection.RemoteEndpoint], key, connection.RemoteBlessingNames.ToArray()), connection.Closed);
    }

    /// <summary>Registers <paramref name="connection"/> (any object naming one connection) to <paramref name="peer"/> until <paramref name="closed"/>.</summary>
    internal async Task RegisterAsync(object connection, RoutingIdPeer peer, Task closed)
    {
        var routingId = peer.Endpoints[0].RoutingId;
        if (routingId.IsNull || !_registered.TryAdd(connection, (routingId, peer.PublicKey)))
        {
            return;
        }

        try
        {
            // The index first: a registration the index lacks could outlive this silo's death.
            await _grains.GetGrain<ISiloRoutesGrain>(_siloKey).AddAsync(routingId.ToString());
            await _grains.GetRoutingIdGrain(routingId).RegisterAsync(_siloKey, peer);
            LogRegistered(_logger, _siloKey, routingId);
        }
#pragma warning disable CA1031 // The flow works without the registration; only reaching the peer from other silos fails.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogRegistrationFailed(_logger, e, _siloKey, routingId);
        }

        _ = UnregisterWhenClosedAsync(connection, routingId, peer.PublicKey, closed);
    }

    private async Task UnregisterWhenClosedAsync(object connection, RoutingId routingId, string peerKey, Task closed)
    {
        await closed;
        _registered.TryRemove(connection, out _);

        // Another connection to the same peer keeps the registration true.
        if (_registered.Values.Contains((routingId, peerKey)) || _stopping)
        {
            return;
        }

        try
        {
            await _grains.GetRoutingIdGrain(routingId).UnregisterAsync(_siloKey, peerKey);
            if (!_registered.Values.Any(r => r.RoutingId == routingId))
            {
                await _grains.GetGrain<ISiloRoutesGrain>(_siloKey).RemoveAsync(routingId.ToString());
            }

            LogUnregistered(_logger, _siloKey, routingId);
        }
#pragma warning disable CA1031 // Lookups drop registrations of dead silos; a live silo's stale one only costs a failed dial.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogRegistrationFailed(_logger, e, _siloKey, routingId);
        }
    }

    [LoggerMessage(1, LogLevel.Debug, "Silo {Silo} registered its connection to routing ID {RoutingId}")]
    private static partial void LogRegistered(ILogger logger, string silo, RoutingId routingId);

    [LoggerMessage(2, LogLevel.Debug, "Silo {Silo} unregistered its connection to routing ID {RoutingId}")]
    private static partial void LogUnregistered(ILogger logger, string silo, RoutingId routingId);

    [LoggerMessage(3, LogLevel.Warning, "Silo {Silo} could not update the registration of routing ID {RoutingId}")]
    private static partial void LogRegistrationFailed(ILogger logger, Exception exception, string silo, RoutingId routingId);
}
