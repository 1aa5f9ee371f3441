using System.CommandLine;
using System.Diagnostics;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Proxy;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Cli.Transport;

/// <summary>
/// The transport verbs, each one plain <see cref="FlowManager"/> (or <see cref="ProxyServer"/>) with no cluster:
/// <c>serve</c> echoes flows, <c>dial</c> sends a message, a file or random bytes and checks the echo, <c>ping</c>
/// measures round trips, <c>proxy</c> runs a proxy server.
/// </summary>
internal static class TransportCommands
{
    private static readonly ListenAddress s_loopback = new("tcp", "127.0.0.1:0");

    public static IEnumerable<Command> Create(CliApp app) => [Serve(app), Dial(app), Ping(app), Proxy(app)];

    private static Option<List<ListenAddress>> ListenOption(string description) => new("--listen")
    {
        Description = description,
        HelpName = "PROTOCOL/ADDRESS",
        CustomParser = ValueParsers.ParseListenAddresses,
        AllowMultipleArgumentsPerToken = false,
    };

    private static Argument<Endpoint> EndpointArgument(string description) => new("ENDPOINT")
    {
        Description = description,
        HelpName = "ENDPOINT",
        CustomParser = ValueParsers.ParseEndpoint,
    };

    private static Command Serve(CliApp app)
    {
        var listen = ListenOption("Listen on PROTOCOL/ADDRESS (repeatable; default tcp/127.0.0.1:0, none with --proxy)");
        var proxy = new Option<Endpoint?>("--proxy")
        {
            Description = "Also accept flows through the proxy at ENDPOINT (flowctl proxy prints it)",
            HelpName = "ENDPOINT",
            CustomParser = r => ValueParsers.ParseEndpoint(r),
        };
        var principal = CommonOptions.Principal("Serve as the principal in DIR (flowctl principal create); default a new in-memory one");
        var command = new Command("serve", "Listen (directly or through a proxy) and echo every flow until Ctrl+C") { listen, proxy, principal };
        app.SetAction(command, async verb =>
        {
            var addresses = verb.Get(listen) ?? [];
            var proxyEndpoint = verb.Get(proxy);
            if (addresses.Count == 0 && proxyEndpoint is null)
            {
                addresses = [s_loopback];
            }

            await using var manager = new FlowManager(new FlowManagerOptions { Principal = CommonOptions.LoadPrincipal(verb, principal) });
            foreach (var address in addresses)
            {
                var listener = await ListenAsync(address, async (p, a, ct) => (await manager.ListenAsync(p, a, ct).ConfigureAwait(false)).Endpoint, verb)
                    .ConfigureAwait(false);
                Report(verb.Output, "listening", "listening on", listener);
            }

            if (proxyEndpoint is not null)
            {
                verb.Doing = $"registering with the proxy {proxyEndpoint}";
                var listener = await manager.ProxyListenAsync("proxy", proxyEndpoint, PeerAuthorizers.AllowEveryone(manager.Principal), verb.CancellationToken)
                    .ConfigureAwait(false);
                if (manager.Status.ProxyErrors.GetValueOrDefault("proxy") is { } error)
                {
                    throw error;
                }

                Report(verb.Output, "listening-via-proxy", "listening through the proxy on", listener.Endpoint);
            }

            verb.Doing = "accepting flows";
            while (true)
            {
                var flow = await manager.AcceptAsync(verb.CancellationToken).ConfigureAwait(false);
                _ = EchoAsync(flow, verb.Output, verb.CancellationToken);
            }
        }, server: true);
        return command;
    }

    private static async Task<Endpoint> ListenAsync(ListenAddress address, Func<string, string, CancellationToken, Task<Endpoint>> listen, Verb verb)
    {
        try
        {
            return await listen(address.Protocol, address.Address, verb.CancellationToken).ConfigureAwait(false);
        }
        catch (FlowException e)
        {
            throw new CliFailure(ExitCode.Unreachable,
                $"--listen '{address}' could not be listened on ({e.Code}: {e.Message}); expected a free local address such as tcp/127.0.0.1:0", e);
        }
    }

    private static void Report(CliOutput output, string kind, string text, Endpoint endpoint)
    {
        if (output.Json)
        {
            output.JsonLine(new { @event = kind, endpoint = endpoint.ToString() });
        }
        else
        {
            output.Line($"{text} {endpoint}");
        }
    }

    private static async Task EchoAsync(IFlow flow, CliOutput output, CancellationToken cancellationToken)
    {
        await using (flow.ConfigureAwait(false))
        {
            try
            {
                var bytes = await Echo.RunAsync(flow.AsStream(), ct => flow.CloseWriteAsync(ct).AsTask(), cancellationToken).ConfigureAwait(false);
                var remote = flow.RemoteEndpoint.ToString();
                if (output.Json)
                {
                    output.JsonLine(new { @event = "echoed", remoteEndpoint = remote, remoteBlessings = flow.RemoteBlessings.Names, bytes });
                }
                else
                {
                    output.Line($"echoed {bytes} bytes to {string.Join(",", flow.RemoteBlessings.Names)} at {remote}");
                }
            }
            catch (Exception e) when (e is FlowException or OperationCanceledException or IOException)
            {
                // The peer went away mid-echo, or the server stops: nothing to answer.
            }
        }
    }

    private static Command Dial(CliApp app)
    {
        var endpoint = EndpointArgument("The endpoint to dial: as a listener prints it, or host:port");
        var payload = new PayloadOptions();
        var principal = CommonOptions.Principal("Dial as the principal in DIR; default a new in-memory one");
        var blessings = CommonOptions.Blessings("Accept the peer only if a valid blessing of it matches PATTERN (repeatable; default any peer)");
        var command = new Command("dial", "Open a flow, send a message (or a file, or random bytes) and print or check the echo") { endpoint, principal, blessings };
        payload.AddTo(command);
        app.SetAction(command, async verb =>
        {
            var server = verb.Get(endpoint);
            var data = await payload.ResolveAsync(verb).ConfigureAwait(false);
            await using var manager = DialOnlyManager(verb, principal);
            verb.Doing = $"dialing {server}";
            await using var flow = await manager.DialAsync(server, Authorizer(manager, verb.Get(blessings)), cancellationToken: verb.CancellationToken)
                .ConfigureAwait(false);
            verb.Doing = $"sending {data.Description} to {server}";
            var result = await TransferProgress.RunAsync(verb.Output, data, (sent, received) =>
                EchoTransfer.RunAsync(flow.AsStream(), ct => flow.CloseWriteAsync(ct).AsTask(), data, sent, received, verb.CancellationToken)).ConfigureAwait(false);
            return DialReport.Print(verb, new PeerInfo(flow.RemoteEndpoint.ToString(), flow.RemoteEndpoint.RoutingId.ToString(), flow.RemoteBlessings.Names), data, result);
        });
        return command;
    }

    private static FlowManager DialOnlyManager(Verb verb, Option<string?> principal)
    {
        // A dial-only manager: the null routing ID means nobody can open flows back to this program. Such a manager shows
        // servers only its key, unless the user named a principal to be known by (servers may require its blessings).
        var named = CommonOptions.LoadPrincipal(verb, principal);
        return new(new FlowManagerOptions { RoutingId = RoutingId.Null, Principal = named, NamelessWhenDialOnly = named is null });
    }

    private static IPeerAuthorizer Authorizer(FlowManager manager, List<string>? patterns) =>
        patterns is { Count: > 0 } ? PeerAuthorizers.RequireBlessings(manager.Principal, [.. patterns]) : PeerAuthorizers.AllowEveryone(manager.Principal);

    private static Command Ping(CliApp app)
    {
        var endpoint = EndpointArgument("The echo server to ping (flowctl serve)");
        var count = new Option<int>("--count") { Description = "Round trips to measure", HelpName = "N", DefaultValueFactory = _ => 10, CustomParser = ValueParsers.Int(1, 1_000_000) };
        var size = new Option<int>("--size") { Description = "Bytes per round trip", HelpName = "BYTES", DefaultValueFactory = _ => 64, CustomParser = ValueParsers.Int(1, 1 << 20) };
        var principal = CommonOptions.Principal("Dial as the principal in DIR; default a new in-memory one");
        var blessings = CommonOptions.Blessings("Accept the peer only if a valid blessing of it matches PATTERN (repeatable)");
        var command = new Command("ping", "Measure round-trip times to an echo server over one flow (count, min, avg, p50, max)") { endpoint, count, size, principal, blessings };
        app.SetAction(command, async verb =>
        {
            var server = verb.Get(endpoint);
            await using var manager = DialOnlyManager(verb, principal);
            verb.Doing = $"dialing {server}";
            var watch = Stopwatch.StartNew();
            await using var flow = await manager.DialAsync(server, Authorizer(manager, verb.Get(blessings)), cancellationToken: verb.CancellationToken)
                .ConfigureAwait(false);
            var dialMs = watch.Elapsed.TotalMilliseconds;
            verb.Doing = $"pinging {server}";
            var samples = await RoundTripsAsync(flow, verb.Get(count), verb.Get(size), verb.CancellationToken).ConfigureAwait(false);
            await flow.CloseWriteAsync(verb.CancellationToken).ConfigureAwait(false);
            var peer = new PeerInfo(flow.RemoteEndpoint.ToString(), flow.RemoteEndpoint.RoutingId.ToString(), flow.RemoteBlessings.Names);
            var rtt = RttSummary.Of(samples);
            if (verb.Output.Json)
            {
                verb.Output.JsonDocument(new { peer, dialMs, bytes = verb.Get(size), rtt });
            }
            else
            {
                verb.Output.Line($"dialed {string.Join(",", peer.Blessings)} at {peer.RoutingId} in {Bytes.Milliseconds(dialMs)}");
                verb.Output.Table($"round trips of {verb.Get(size)} bytes", ["count", "min", "avg", "p50", "max"],
                    [[rtt.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Bytes.Milliseconds(rtt.MinMs), Bytes.Milliseconds(rtt.AvgMs), Bytes.Milliseconds(rtt.P50Ms), Bytes.Milliseconds(rtt.MaxMs)]]);
            }

            return 0;
        });
        return command;
    }

    private static async Task<double[]> RoundTripsAsync(IFlow flow, int count, int size, CancellationToken cancellationToken)
    {
        var samples = new double[count];
        var sent = new byte[size];
        var back = new byte[size];
        for (var i = 0; i < count; i++)
        {
            System.Security.Cryptography.RandomNumberGenerator.Fill(sent);
            var start = Stopwatch.GetTimestamp();
            await flow.WriteAsync(sent, cancellationToken).ConfigureAwait(false);
            for (var read = 0; read < size;)
            {
                var n = await flow.ReadAsync(back.AsMemory(read), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new CliFailure(ExitCode.EchoMismatch, $"the peer closed the flow after {read} of {size} bytes of round trip {i + 1}; expected an echo server (flowctl serve)");
                }

                read += n;
            }

            samples[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (!back.AsSpan().SequenceEqual(sent))
            {
                throw new CliFailure(ExitCode.EchoMismatch, $"round trip {i + 1} came back different from what was sent; expected an echo server (flowctl serve)");
            }
        }

        return samples;
    }

    private static Command Proxy(CliApp app)
    {
        var listen = ListenOption("Listen on PROTOCOL/ADDRESS (repeatable; default tcp/127.0.0.1:0)");
        var command = new Command("proxy", "Run a proxy server: servers register through it, dialers reach them via its address") { listen };
        app.SetAction(command, async verb =>
        {
            await using var proxy = new ProxyServer();
            foreach (var address in verb.Get(listen) is { Count: > 0 } addresses ? addresses : [s_loopback])
            {
                var endpoint = await ListenAsync(address, proxy.ListenAsync, verb).ConfigureAwait(false);
                Report(verb.Output, "listening", "proxy listening on", endpoint);
            }

            verb.Doing = "proxying";
            await Task.Delay(Timeout.Infinite, verb.CancellationToken).ConfigureAwait(false);
            return 0;
        }, server: true);
        return command;
    }
}
