using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Grains.Hosting;

/// <summary>The silo's share of the cluster's pins: the connections its pin grains asked this silo to keep up.</summary>
public sealed partial class SiloFlowHost
{
    internal async Task<SiloPin> PinAsync(string name, PinRequest request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(request);
        if (!Endpoint.TryParse(request.Endpoint, out var remote))
        {
            throw new FlowException(FlowErrorCode.BadArg, $"'{request.Endpoint}' is not an endpoint.");
        }

        using var both = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token, cancellationToken);
        await _pinLock.WaitAsync(both.Token);
        try
        {
            if (_pins.TryGetValue(name, out var existing))
            {
                if (existing.Request.Endpoint == request.Endpoint)
                {
                    return Describe(name, existing.Request, existing.Pin);
                }

                existing.Pin.Unpin();
                _pins.TryRemove(name, out _);
            }

            var authorizer = request.BlessingPatterns.Count == 0
                ? _authorizer!
                : PeerAuthorizers.RequireBlessings(_principal!, request.BlessingPatterns.ToArray());
            var pin = await Manager.PinConnectionAsync(remote, authorizer, request.ChannelTimeout, both.Token);
            _pins[name] = (request, pin);
            LogPinned(_logger, SiloKey, name, request.Endpoint);
            return Describe(name, request, pin);
        }
        finally
        {
            _pinLock.Release();
        }
    }

    internal void Unpin(string name)
    {
        if (_pins.TryRemove(name, out var pin))
        {
            pin.Pin.Unpin();
            LogUnpinned(_logger, SiloKey, name);
        }
    }

    internal SiloPin? GetPin(string name) => _pins.TryGetValue(name, out var pin) ? Describe(name, pin.Request, pin.Pin) : null;

    private static SiloPin Describe(string name, PinRequest request, IPinnedConnection pin) =>
        new(name, request.Endpoint, pin.Connection.RemoteEndpoint.ToString(), pin.Reconnects, pin.Connection.Rtt);

    private async Task CheckPinsOnStartAsync()
    {
        try
        {
            await EnsureAllPinsAsync();
        }
#pragma warning disable CA1031 // The pins' reminders are the fallback; a failed check must not fault the silo's stop.
        catch (Exception e)
#pragma warning restore CA1031
        {
            LogPinCheckFailed(_logger, e, SiloKey, "*");
        }
    }

    private async Task EnsureAllPinsAsync()
    {
        var names = await _clusterClient.GetGrain<IPinIndexGrain>(0).ListAsync();
        await Task.WhenAll(names.Select(async name =>
        {
            try
            {
                await _clusterClient.GetGrain<IPinnedConnectionGrain>(name).EnsureAsync();
            }
#pragma warning disable CA1031 // One pin failing to move must not stop the others; its own timer retries.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogPinCheckFailed(_logger, e, SiloKey, name);
            }
        }));
    }
}
