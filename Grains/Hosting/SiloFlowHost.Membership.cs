using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;

namespace FlowOrleans.Grains.Hosting;

/// <summary>
/// What the cluster must learn as connections and silos come and go: which routing IDs this silo reaches, and, when a
/// silo dies, that its pins must move and its routing registrations go.
/// </summary>
public sealed partial class SiloFlowHost
{
    /// <summary>
    /// When a silo dies its pins must move, but the pin grains of those pins may have died with it (and their timers);
    /// so every silo asks every pin to check its owner. Ensuring is idempotent, so duplicates only cost calls.
    /// </summary>
    private async Task WatchMembershipAsync(CancellationToken cancellationToken)
    {
        var previous = _membership.CurrentSnapshot;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var snapshot in _membership.MembershipUpdates.WithCancellation(cancellationToken))
                {
                    var update = snapshot.CreateUpdate(previous);
                    previous = snapshot;
                    var dead = update.Changes.Where(c => c.Status == SiloStatus.Dead).Select(c => SiloKeys.ToKey(c.SiloAddress)).ToArray();
                    if (dead.Length > 0)
                    {
                        await Task.WhenAll(EnsureAllPinsAsync(), PurgeRoutesAsync(dead));
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The watch must outlive any one failure; it retries after a pause.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogMembershipWatchFailed(_logger, e, SiloKey);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Drops dead silos' routing-ID registrations. Every surviving silo sees the death and asks; the first purge
    /// empties the index, so the rest cost one call each.
    /// </summary>
    private async Task PurgeRoutesAsync(IReadOnlyList<string> deadSilos)
    {
        foreach (var silo in deadSilos)
        {
            try
            {
                await _clusterClient.GetGrain<ISiloRoutesGrain>(silo).PurgeAsync();
                LogRoutesPurged(_logger, SiloKey, silo);
            }
#pragma warning disable CA1031 // Lookups skip dead silos anyway; the next death notice or silo retries the purge.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogRoutesPurgeFailed(_logger, e, SiloKey, silo);
            }
        }
    }

    /// <summary>Tells the peer's <see cref="IRoutingIdGrain"/> that this silo holds a connection to it, once per connection.</summary>
    private async Task RegisterConnectionAsync(IManagedConnection connection)
    {
        var routingId = connection.RemoteEndpoint.RoutingId;
        if (routingId.IsNull || !_registered.TryAdd(connection, routingId))
        {
            return;
        }

        var grain = _clusterClient.GetGrain<IRoutingIdGrain>(routingId.ToString());
        try
        {
            // The index first: a registration the index lacks could outlive this silo's death.
            await _clusterClient.GetGrain<ISiloRoutesGrain>(SiloKey).AddAsync(routingId.ToString());
            await grain.RegisterAsync(SiloKey, [connection.RemoteEndpoint.ToString()]);
            LogRegistered(_logger, SiloKey, routingId.ToString());
        }
#pragma warning disable CA1031 // The flow works without the registration; only reaching the peer from other silos fails.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogRegistrationFailed(_logger, e, SiloKey, routingId.ToString());
        }

        _ = UnregisterWhenClosedAsync(connection, routingId);
    }

    private async Task UnregisterWhenClosedAsync(IManagedConnection connection, RoutingId routingId)
    {
        await connection.Closed;
        _registered.TryRemove(connection, out _);

        // Another connection to the same peer keeps the registration true.
        if (_registered.Values.Contains(routingId) || _stopping.IsCancellationRequested)
        {
            return;
        }

        try
        {
            await _clusterClient.GetGrain<IRoutingIdGrain>(routingId.ToString()).UnregisterAsync(SiloKey);
            await _clusterClient.GetGrain<ISiloRoutesGrain>(SiloKey).RemoveAsync(routingId.ToString());
            LogUnregistered(_logger, SiloKey, routingId.ToString());
        }
#pragma warning disable CA1031 // Lookups drop registrations of dead silos; a live silo's stale one only costs a failed dial.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogRegistrationFailed(_logger, e, SiloKey, routingId.ToString());
        }
    }
}
