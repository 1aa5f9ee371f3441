using System.Collections.Concurrent;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Proxy;

/// <summary>
/// A proxy (Vanadium's xproxy): servers that cannot be reached directly register with it and it publishes endpoints
/// for them at its own address; clients dial those endpoints and the proxy splices each client flow to a flow over
/// the server's registered connection (docs/architecture.md, "Proxy").
/// </summary>
/// <remarks>
/// The proxy is a <see cref="FlowManager"/> that listens. Every flow opened to it carries frames of a
/// <see cref="FlowFramedConnection"/>, and the first frame says what the flow is for: a ProxyServerRequest registers
/// the server that sent it, a Setup is a client's handshake with the server named by the Setup's remote endpoint.
/// Client and server then run their handshake and every later record end to end; the proxy forwards ciphertext and
/// never holds the keys.
/// </remarks>
public sealed partial class ProxyServer : IAsyncDisposable
{
    private readonly ProxyServerOptions _options;
    private readonly FlowManager _manager;
    private readonly IPeerAuthorizer? _serverAuthorizer;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<RoutingId, ProxyRegistration> _servers = new();
    private readonly ConcurrentDictionary<Task, byte> _handlers = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private long _forwardedBytes;
    private long _activeSplices;
    private int _disposed;

    public ProxyServer(ProxyServerOptions? options = null)
    {
        _options = options ?? new ProxyServerOptions();
        _options.Validate();
        _serverAuthorizer = _options.ServerAuthorizer;
        _logger = _options.LoggerFactory.CreateLogger<ProxyServer>();
        _time = _options.Clock!;
        _manager = new FlowManager(new FlowManagerOptions
        {
            TimeProvider = _time,
            Principal = _options.Principal ?? DefaultPrincipal(),
            RoutingId = _options.RoutingId,
            Protocols = _options.Protocols,
            Connection = _options.Connection,
            MaxCachedConnections = _options.MaxCachedConnections,
            LoggerFactory = _options.LoggerFactory,
        });
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    /// <summary>The proxy's routing ID: the route of every endpoint it publishes.</summary>
    public RoutingId RoutingId => _manager.RoutingId;

    /// <summary>The identity the proxy shows on the hop to it (never to the servers' clients: they talk end to end).</summary>
    public Principal Principal => _manager.Principal;

    /// <summary>The endpoints the proxy listens on.</summary>
    public IReadOnlyList<Endpoint> Endpoints => _manager.Status.Endpoints.Where(e => !e.IsAddressless).ToArray();

    /// <summary>Routing IDs of the servers registered right now.</summary>
    public IReadOnlyCollection<RoutingId> Servers => _servers.Keys.ToArray();

    /// <summary>Bytes forwarded between clients and servers, both directions, frame piece bytes included.</summary>
    public long ForwardedBytes => Interlocked.Read(ref _forwardedBytes);

    /// <summary>Client flows being spliced to servers right now.</summary>
    public long ActiveSplices => Interlocked.Read(ref _activeSplices);

    /// <summary>Test hook: sees every forwarded message, as the proxy sees it.</summary>
    internal Action<byte[]>? OnForwarded { get; set; }

    /// <summary>Starts listening on <paramref name="protocol"/>/<paramref name="address"/> and returns the proxy's endpoint there.</summary>
    public async Task<Endpoint> ListenAsync(string protocol, string address, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var listener = await _manager.ListenAsync(protocol, address, cancellationToken).ConfigureAwait(false);
        return listener.Endpoint;
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            IFlow flow;
            try
            {
                flow = await _manager.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is FlowException or OperationCanceledException)
            {
                if (_stopping.IsCancellationRequested)
                {
                    return;
                }

                continue; // the backlog was reset; the manager is still open
            }

            Track(HandleFlowAsync(flow));
        }
    }

    private void Track(Task handler)
    {
        _handlers[handler] = 0;
        _ = handler.ContinueWith(t => _handlers.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task HandleFlowAsync(IFlow flow)
    {
        var framed = new FlowFramedConnection(flow, flow.LocalEndpoint.Protocol);
        try
        {
            Message first;
            byte[] frame;
            using (var deadline = new Deadline(_options.FirstMessageTimeout, _time, _stopping.Token))
            {
                (first, frame) = await ProxyWire.ReadAsync(framed, deadline.Token).ConfigureAwait(false);
            }

            switch (first)
            {
                case ProxyServerRequest:
                    await ServeRegistrationAsync(framed).ConfigureAwait(false);
                    break;
                case Setup setup:
                    await RouteAsync(framed, setup, frame).ConfigureAwait(false);
                    break;
                default:
                    LogUnexpected(_logger, flow.RemoteEndpoint, first.GetType().Name);
                    break;
            }
        }
        catch (Exception e) when (e is FlowException or OperationCanceledException)
        {
            LogFlowFailed(_logger, flow.RemoteEndpoint, e.Message);
        }
        finally
        {
            await framed.DisposeAsync().ConfigureAwait(false);
        }
    }

    // ------------------------------------------------------------------ servers

    private async Task ServeRegistrationAsync(FlowFramedConnection control)
    {
        var flow = control.Flow;
        var server = flow.RemoteEndpoint.RoutingId;
        try
        {
            if (server.IsNull)
            {
                throw new FlowException(FlowErrorCode.BadArg, "A server needs a routing ID to be proxied.");
            }

            if (_serverAuthorizer is not null)
            {
                await _serverAuthorizer.AuthorizePeerAsync(
                    new PeerAuthorizationContext(flow.LocalEndpoint, flow.RemoteEndpoint, flow.RemoteBlessings, flow.RemoteDischarges, _time.GetUtcNow()),
                    _stopping.Token).ConfigureAwait(false);
            }
        }
        catch (FlowException e)
        {
            LogRefused(_logger, flow.RemoteEndpoint, e.Message);
            // The code's meaning only: the authorizer's reasons are the proxy's policy, kept in its log.
            await ProxyWire.WriteAsync(control, new ProxyErrorResponse($"The proxy refused the server ({e.Code})."), _stopping.Token).ConfigureAwait(false);
            return;
        }

        var endpoints = Endpoints.Select(e => ProxiedEndpoints.Publish(e, RoutingId, server).ToString()).ToArray();
        if (endpoints.Length == 0)
        {
            await ProxyWire.WriteAsync(control, new ProxyErrorResponse("The proxy is not listening on any address."), _stopping.Token).ConfigureAwait(false);
            return;
        }

        var registration = new ProxyRegistration(server, (ManagedConnection)flow.Connection, control);
        if (!TryRegister(registration))
        {
            LogClaimRefused(_logger, flow.RemoteEndpoint, server);
            await ProxyWire.WriteAsync(control, new ProxyErrorResponse("The proxy refused the server (its routing ID is registered by another key)."), _stopping.Token)
                .ConfigureAwait(false);
            return;
        }

        try
        {
            await ProxyWire.WriteAsync(control, new ProxyResponse(endpoints), _stopping.Token).ConfigureAwait(false);
            LogRegistered(_logger, server, endpoints.Length);

            // The registration lasts as long as the control flow: the server closing it, or its connection dropping.
            while (!(await control.ReadFrameAsync(_stopping.Token).ConfigureAwait(false)).IsCompleted)
            {
            }
        }
        finally
        {
            if (_servers.TryRemove(new KeyValuePair<RoutingId, ProxyRegistration>(server, registration)))
            {
                LogUnregistered(_logger, server);
            }
        }
    }

    /// <summary>
    /// Files a registration under the routing ID its server claimed. A routing ID is a claim, not an identity
    /// (docs/architecture.md 2.1): a server's re-registration replaces its own older one (same key), but never a live one
    /// of another key, which would hand that server's clients to whoever claims its ID. The ID is free again once its
    /// holder's registration or connection ends.
    /// </summary>
    private bool TryRegister(ProxyRegistration registration)
    {
        var key = registration.Connection.RemoteBlessings.PublicKey;
        while (true)
        {
            if (_servers.TryAdd(registration.Server, registration))
            {
                return true;
            }

            if (!_servers.TryGetValue(registration.Server, out var held))
            {
                continue; // unregistered meanwhile
            }

            if (held.Connection.IsUsable && (key is null || !key.Equals(held.Connection.RemoteBlessings.PublicKey)))
            {
                return false;
            }

            if (_servers.TryUpdate(registration.Server, registration, held))
            {
                return true;
            }
        }
    }

    // ------------------------------------------------------------------ clients

    private async Task RouteAsync(FlowFramedConnection client, Setup setup, byte[] setupFrame)
    {
        if (!Endpoint.TryParse(setup.RemoteEndpoint, out var target) || target.RoutingId.IsNull)
        {
            await RefuseAsync(client, $"The handshake names no server to reach ('{setup.RemoteEndpoint}').").ConfigureAwait(false);
            return;
        }

        if (!_servers.TryGetValue(target.RoutingId, out var registration))
        {
            await RefuseAsync(client, $"No server with routing ID {target.RoutingId} is registered at this proxy.").ConfigureAwait(false);
            return;
        }

        IFlow outbound;
        try
        {
            outbound = registration.Connection.OpenFlow();
        }
        catch (FlowException e)
        {
            LogRouteFailed(_logger, target.RoutingId, e.Code, e.Message);
            await RefuseAsync(client, $"The server {target.RoutingId} cannot be reached ({e.Code}).").ConfigureAwait(false);
            return;
        }

        await using var server = new FlowFramedConnection(outbound, client.Protocol);
        Interlocked.Increment(ref _activeSplices);
        try
        {
            OnForward(setupFrame);
            await ProxyWire.WriteRawAsync(server, setupFrame, _stopping.Token).ConfigureAwait(false);
            await FlowSplice.RunAsync(client.Flow, outbound, OnForward, _stopping.Token).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _activeSplices);
        }
    }

    private void OnForward(byte[] message)
    {
        Interlocked.Add(ref _forwardedBytes, message.Length);
        OnForwarded?.Invoke(message);
    }

    /// <summary>Answers the client's Setup with a plaintext TearDown, so its handshake fails with <see cref="FlowErrorCode.Proxy"/> and the reason.</summary>
    private async Task RefuseAsync(FlowFramedConnection client, string reason)
    {
        LogRouteRefused(_logger, client.Flow.RemoteEndpoint, reason);
        await ProxyWire.WriteAsync(client, new TearDown(FlowErrorCode.Proxy, reason), _stopping.Token).ConfigureAwait(false);
    }

    // ------------------------------------------------------------------ lifetime

    /// <summary>Stops listening, drops every registration and splice, and closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _manager.DisposeAsync().ConfigureAwait(false);
        await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_handlers.Keys).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private static Principal DefaultPrincipal()
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf("proxy");
        return principal;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxying server {Server} at {Count} endpoints")]
    private static partial void LogRegistered(ILogger logger, RoutingId server, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Server {Server} is no longer proxied")]
    private static partial void LogUnregistered(ILogger logger, RoutingId server);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused to proxy the server at {Remote}: {Reason}")]
    private static partial void LogRefused(ILogger logger, Endpoint remote, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Refused to route a flow from {Remote}: {Reason}")]
    private static partial void LogRouteRefused(ILogger logger, Endpoint remote, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Could not open a flow to registered server {Server}: {Code} {Reason}")]
    private static partial void LogRouteFailed(ILogger logger, RoutingId server, FlowErrorCode code, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused {Remote}'s registration: routing ID {Server} is held by another key")]
    private static partial void LogClaimRefused(ILogger logger, Endpoint remote, RoutingId server);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignoring a flow from {Remote} that starts with {Message}")]
    private static partial void LogUnexpected(ILogger logger, Endpoint remote, string message);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A proxy flow from {Remote} failed: {Reason}")]
    private static partial void LogFlowFailed(ILogger logger, Endpoint remote, string reason);
}
