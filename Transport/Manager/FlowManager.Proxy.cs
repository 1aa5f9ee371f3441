using System.Threading.Channels;
using FlowOrleans.Transport.Connections;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Messages;
using FlowOrleans.Transport.Proxy;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Logging;

namespace FlowOrleans.Transport.Manager;

/// <summary>The manager's side of proxying: registering with proxies as a server, and dialing servers through them.</summary>
public sealed partial class FlowManager
{
    private readonly List<ProxyListener> _proxyListeners = []; // guarded by _statusLock

    /// <summary>
    /// Registers with the proxy at <paramref name="proxy"/> under <paramref name="name"/>, and accepts the connections
    /// clients make through it. Returns once the first registration attempt has ended, either way: its outcome is in
    /// <see cref="ListenStatus.ProxyErrors"/> (null on success), and the endpoints the proxy published are in
    /// <see cref="ListenStatus.Endpoints"/>. Whenever the registration fails or the connection to the proxy drops, the
    /// manager registers again after a jittered exponential backoff (<see cref="FlowManagerOptions.PinBackoffMin"/> to
    /// <see cref="FlowManagerOptions.PinBackoffMax"/>), until <see cref="StopListeningAsync"/> or disposal, which end
    /// the listener's <see cref="IFlowListener.Completion"/>.
    /// </summary>
    /// <param name="name">Key of this registration in <see cref="ListenStatus.ProxyErrors"/>.</param>
    /// <param name="proxy">The proxy's endpoint (its address; its routing ID, when set, is checked).</param>
    /// <param name="authorizer">Judges the proxy on the hop to it.</param>
    public async Task<IFlowListener> ProxyListenAsync(string name, Endpoint proxy, IPeerAuthorizer authorizer, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(proxy);
        ArgumentNullException.ThrowIfNull(authorizer);
        if (RoutingId.IsNull)
        {
            throw new FlowException(FlowErrorCode.BadState, "A manager with the null routing ID can only dial.");
        }

        if (proxy.IsAddressless || ProxiedEndpoints.IsProxied(proxy))
        {
            throw new FlowException(FlowErrorCode.BadArg, $"Proxy endpoint {proxy} must have an address and no routes.");
        }

        var listener = new ProxyListener(name, proxy, proxy.WithRoutingId(RoutingId).WithBlessingNames(_principal.DefaultBlessings.Names));
        lock (_statusLock)
        {
            if (_proxyListeners.Any(l => l.Name == name))
            {
                throw new FlowException(FlowErrorCode.BadState, $"A proxy registration named '{name}' already exists.");
            }

            _proxyListeners.Add(listener);
            _stoppedListening = false;
        }

        var firstAttempt = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _ = ProxyLoopAsync(listener, authorizer, firstAttempt);
        try
        {
            await firstAttempt.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The caller never gets the listener, so nothing could stop it later: stop it now.
            await listener.Stop.CancelAsync().ConfigureAwait(false);
            throw;
        }

        return listener;
    }

    private async Task ProxyLoopAsync(ProxyListener listener, IPeerAuthorizer authorizer, TaskCompletionSource firstAttempt)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(listener.Stop.Token, _closing.Token);
        var failures = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                FlowException error;
                ProxySession? session = null;
                try
                {
                    session = await RegisterAsync(listener, authorizer, stop.Token).ConfigureAwait(false);
                    listener.SetPublished(session.Endpoints);
                    SetProxyError(listener.Name, null);
                    LogProxyRegistered(_logger, listener.Name, listener.Proxy, listener.Endpoint);
                    firstAttempt.TrySetResult();
                    failures = 0;
                    error = await ServeProxiedAsync(listener, session, stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (!stop.IsCancellationRequested && e is FlowException or OperationCanceledException)
                {
                    error = e as FlowException is { Code: FlowErrorCode.Proxy } proxyError
                        ? proxyError
                        : new FlowException(FlowErrorCode.Proxy, $"Registering with proxy {listener.Proxy} failed: {e.Message}", e);
                }
                finally
                {
                    listener.SetPublished([]);
                    if (session is not null)
                    {
                        await session.Connection.CloseAsync("stopped proxy listening").ConfigureAwait(false);
                    }
                }

                if (stop.IsCancellationRequested)
                {
                    break;
                }

                SetProxyError(listener.Name, error);
                LogProxyFailed(_logger, listener.Name, listener.Proxy, error.Message);
                firstAttempt.TrySetResult();
                await Task.Delay(Backoff(failures++), _time, stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception) when (stop.IsCancellationRequested)
        {
            // Stopped listening or the manager closed.
        }
        finally
        {
            firstAttempt.TrySetResult();
            lock (_statusLock)
            {
                _proxyListeners.Remove(listener);
                _proxyErrors.Remove(listener.Name);
            }

            listener.Complete();
            MarkDirty();
        }
    }

    /// <summary>
    /// Dials the proxy, sends ProxyServerRequest on a control flow and reads the endpoints it publishes, all within the
    /// dial timeout.
    /// </summary>
    private Task<ProxySession> RegisterAsync(ProxyListener listener, IPeerAuthorizer authorizer, CancellationToken cancellationToken) =>
        DialUnderTimeoutAsync($"Registering with proxy {listener.Proxy}", token => RegisterUnboundedAsync(listener, authorizer, token), cancellationToken);

    private async Task<ProxySession> RegisterUnboundedAsync(ProxyListener listener, IPeerAuthorizer authorizer, CancellationToken cancellationToken)
    {
        var proxy = listener.Proxy;

        // Flows the proxy opens are clients' end-to-end connections, not application flows: they get their own backlog.
        var accepted = Channel.CreateBounded<IFlow>(_options.AcceptBacklog);
        var connection = await ConnectAsync(
            proxy, Settings(authorizer, LocalEndpointForDial(), proxy, TimeSpan.Zero, accepted.Writer), cancellationToken).ConfigureAwait(false);
        try
        {
            var control = new FlowFramedConnection(connection.OpenFlow(), proxy.Protocol);
            await ProxyWire.WriteAsync(control, ProxyServerRequest.Instance, cancellationToken).ConfigureAwait(false);
            var (reply, _) = await ProxyWire.ReadAsync(control, cancellationToken).ConfigureAwait(false);
            var endpoints = reply switch
            {
                ProxyResponse response => response.Endpoints
                    .Select(Endpoint.Parse)
                    .Select(e => e.WithBlessingNames(_principal.DefaultBlessings.Names))
                    .ToArray(),
                ProxyErrorResponse refusal => throw new FlowException(FlowErrorCode.Proxy, $"Proxy {proxy} refused the registration: {refusal.Error}"),
                _ => throw new FlowException(FlowErrorCode.Proxy, $"Proxy {proxy} answered the registration with {reply.GetType().Name}."),
            };
            if (endpoints.Length == 0 || endpoints.Any(e => e.RoutingId != RoutingId))
            {
                throw new FlowException(FlowErrorCode.Proxy, $"Proxy {proxy} published no endpoints with this manager's routing ID.");
            }

            return new ProxySession(connection, control, accepted, endpoints);
        }
        catch
        {
            await connection.CloseAsync("proxy registration failed").ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Accepts the end-to-end connections clients open through the proxy until the connection to the proxy drops or
    /// the proxy ends the registration; returns why.
    /// </summary>
    private async Task<FlowException> ServeProxiedAsync(ProxyListener listener, ProxySession session, CancellationToken cancellationToken)
    {
        var lost = Task.WhenAny(session.Connection.Closed, DrainAsync(session.Control));
        var reader = session.Accepted.Reader;
        try
        {
            while (true)
            {
                var next = reader.WaitToReadAsync(cancellationToken).AsTask();
                if (await Task.WhenAny(next, lost).ConfigureAwait(false) == lost)
                {
                    var why = session.Connection.CloseReason?.Message ?? "the proxy ended the registration";
                    return new FlowException(FlowErrorCode.Proxy, $"Lost the registration with proxy {listener.Proxy}: {why}");
                }

                await next.ConfigureAwait(false);
                while (reader.TryRead(out var flow))
                {
                    // Each flow carries one client's connection; its handshake runs like any accepted connection's.
                    StartAccepting(new FlowFramedConnection(flow, listener.Proxy.Protocol), listener.Endpoint);
                }
            }
        }
        finally
        {
            session.Accepted.Writer.TryComplete();
            while (reader.TryRead(out var leftover))
            {
                await leftover.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async Task DrainAsync(FlowFramedConnection control)
    {
        try
        {
            while (!(await control.ReadFrameAsync().ConfigureAwait(false)).IsCompleted)
            {
                // The proxy sends nothing more today; later messages (endpoint updates) would be read here.
            }
        }
        catch (FlowException)
        {
            // The control flow broke: the registration is over either way.
        }
    }

    /// <summary>
    /// Dials a server behind a proxy: a connection to the proxy (judged by nobody's trust: it sees only ciphertext),
    /// a flow on it, and the real handshake with the server inside that flow.
    /// </summary>
    private async Task<ManagedConnection> DialThroughProxyAsync(
        Endpoint remote, IPeerAuthorizer authorizer, TimeSpan channelTimeout, Action<ManagedConnection> file)
    {
        var hop = ProxiedEndpoints.Hop(remote);
        var hopConnection = await GetConnectionAsync(hop, PeerAuthorizers.AllowEveryone(_principal), TimeSpan.Zero, cachedOnly: false, _closing.Token)
            .ConfigureAwait(false);
        var framed = new FlowFramedConnection(hopConnection.OpenFlow(), remote.Protocol);
        var settings = Settings(authorizer, LocalEndpointForDial(), remote, channelTimeout, beforeStart: file);
        return await DialUnderTimeoutAsync(
            $"Dialing {remote} through its proxy", token => ManagedConnection.ConnectAsync(framed, settings, token), _closing.Token).ConfigureAwait(false);
    }

    /// <summary>One live registration: the connection to the proxy, its control flow, and the flows the proxy opens.</summary>
    private sealed record ProxySession(ManagedConnection Connection, FlowFramedConnection Control, Channel<IFlow> Accepted, IReadOnlyList<Endpoint> Endpoints);

    [LoggerMessage(Level = LogLevel.Information, Message = "Proxy registration {Name} with {Proxy} is live at {Endpoint}")]
    private static partial void LogProxyRegistered(ILogger logger, string name, Endpoint proxy, Endpoint endpoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Proxy registration {Name} with {Proxy} is down: {Reason}")]
    private static partial void LogProxyFailed(ILogger logger, string name, Endpoint proxy, string reason);
}
