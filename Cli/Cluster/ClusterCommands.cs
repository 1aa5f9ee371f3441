using System.CommandLine;
using System.Globalization;
using System.Text;
using FlowOrleans.Cli.CommandLine;
using FlowOrleans.Cli.Transport;
using FlowOrleans.Client;
using FlowOrleans.GrainInterfaces;
using FlowOrleans.Transport.Endpoints;

namespace FlowOrleans.Cli.Cluster;

/// <summary>
/// The cluster verbs, through an Orleans client of the silos' gateway: see every silo's transport, pin and unpin
/// connections, dial through a silo, accept the flows peers open to the cluster.
/// </summary>
internal static class ClusterCommands
{
    public static Command Create(CliApp app)
    {
        var gateway = new Option<GatewayAddress>("--gateway")
        {
            Description = "A silo's gateway (Silo:GatewayPort)",
            HelpName = "HOST:PORT",
            Recursive = true,
            DefaultValueFactory = _ => GatewayAddress.Default,
            CustomParser = r => ValueParsers.ParseGateway(r),
        };
        var clusterId = new Option<string>("--cluster-id") { Description = "The cluster's Silo:ClusterId", HelpName = "ID", Recursive = true, DefaultValueFactory = _ => "dev", CustomParser = r => ValueParsers.ParseName(r) };
        var serviceId = new Option<string>("--service-id") { Description = "The cluster's Silo:ServiceId", HelpName = "ID", Recursive = true, DefaultValueFactory = _ => "flow-orleans", CustomParser = r => ValueParsers.ParseName(r) };
        var connectTimeout = new Option<TimeSpan>("--connect-timeout")
        {
            Description = "How long to wait for the gateway",
            HelpName = "DURATION",
            Recursive = true,
            DefaultValueFactory = _ => TimeSpan.FromSeconds(30),
            CustomParser = r => ValueParsers.ParseDuration(r),
        };
        var tlsCertificate = new Option<string?>("--tls-certificate")
        {
            Description = "This client's PEM certificate (client authentication) for a cluster with mutual TLS (Silo:Tls); default plaintext",
            HelpName = "FILE",
            Recursive = true,
        };
        var tlsKey = new Option<string?>("--tls-key") { Description = "The private key of --tls-certificate (PEM)", HelpName = "FILE", Recursive = true };
        var tlsCa = new Option<string?>("--tls-ca")
        {
            Description = "PEM of the cluster's authority, which the gateway's certificate must chain to (Silo:Tls:CaCertificatePath)",
            HelpName = "FILE",
            Recursive = true,
        };
        var owner = new Option<string>("--owner")
        {
            Description = "The file of the owner capability the pins and listening names this client makes belong to (made on first use)",
            HelpName = "FILE",
            Recursive = true,
            DefaultValueFactory = _ => OwnerFile.DefaultPath,
        };
        var command = new Command("cluster", "Talk to a FlowOrleans cluster through an Orleans client of its gateway")
        {
            gateway, clusterId, serviceId, connectTimeout, tlsCertificate, tlsKey, tlsCa, owner,
        };

        ClusterTarget Target(Verb verb) => new(
            verb.Get(gateway), verb.Get(clusterId), verb.Get(serviceId), verb.Get(connectTimeout),
            verb.Get(tlsCertificate) is { } certificate ? new ClientTlsFiles(certificate, verb.Get(tlsKey), verb.Get(tlsCa)!) : null,
            verb.Get(owner));

        // owned: the verb makes or changes pins or listening names, which belong to the --owner capability.
        void SetAction(Command verbCommand, Func<Verb, FlowClient, Task<int>> run, bool server = false, bool owned = false) => app.SetAction(verbCommand, async verb =>
        {
            var target = Target(verb);
            verb.Doing = $"connecting to {target.Gateway}";
            await using var connection = await ClusterConnection.ConnectAsync(target, owned, verb.Output.Verbose, verb.CancellationToken).ConfigureAwait(false);
            verb.Doing = $"asking the cluster at {target.Gateway}";
            return await run(verb, connection.Flows).ConfigureAwait(false);
        }, server);

        command.Add(Status(SetAction));
        command.Add(Pin(SetAction));
        command.Add(Unpin(SetAction));
        command.Add(Dial(SetAction));
        command.Add(Accept(SetAction));

        // On each verb: a parent command's validators do not run when one of its subcommands is invoked.
        foreach (var verbCommand in command.Subcommands)
        {
            verbCommand.Validators.Add(result =>
            {
                var given = new[] { tlsCertificate, tlsKey, tlsCa }.Count(o => result.GetResult(o) is not null);
                if (given is > 0 and < 3)
                {
                    result.AddError("--tls-certificate, --tls-key and --tls-ca go together; expected all three, or none for a cluster without TLS");
                }
            });
        }

        return command;
    }

    private delegate void ActionSetter(Command command, Func<Verb, FlowClient, Task<int>> run, bool server = false, bool owned = false);

    private static Command Status(ActionSetter setAction)
    {
        var command = new Command("status", "Every silo's listeners, connections (with RTT) and pins, and every pin of the cluster with its owner and state");
        setAction(command, async (verb, flows) =>
        {
            var silos = (await flows.GetStatusAsync(verb.CancellationToken).ConfigureAwait(false)).Select(SiloView.From).OrderBy(s => s.SiloKey, StringComparer.Ordinal).ToArray();
            var pins = (await flows.GetPinsAsync(verb.CancellationToken).ConfigureAwait(false)).Select(PinView.From).OrderBy(p => p.Name, StringComparer.Ordinal).ToArray();
            var output = verb.Output;
            if (output.Json)
            {
                output.JsonDocument(new { silos, pins });
                return 0;
            }

            output.Table("silos", ["silo", "routing ID", "open flows", "connections", "pins held"],
                silos.Select(s => new[] { s.SiloKey, s.RoutingId, Number(s.OpenFlows), Number(s.Connections.Count), Number(s.Pins.Count) }));
            output.Table("listeners", ["silo", "endpoint"], silos.SelectMany(s => s.Endpoints.Select(e => new[] { s.SiloKey, e })));
            output.Table("connections", ["silo", "remote endpoint", "remote blessings", "RTT", "age", "open flows"],
                silos.SelectMany(s => s.Connections.Select(c => new[]
                {
                    s.SiloKey, c.RemoteEndpoint, string.Join(", ", c.RemoteBlessings), Bytes.Milliseconds(c.RttMs), Age(c.AgeSeconds), Number(c.OpenFlows),
                })));
            output.Table("pins", ["name", "endpoint", "owner", "state", "reconnects", "moves", "last error", "updated"],
                pins.Select(p => new[]
                {
                    p.Name, p.Endpoint ?? "", p.OwnerSilo ?? "(none)", p.Status.ToString(), Number(p.Reconnects), Number(p.Moves), p.LastError ?? "",
                    p.UpdatedAt.ToString("u", CultureInfo.InvariantCulture),
                }));
            return 0;
        });
        return command;
    }

    private static Argument<string> PinName() => new("NAME") { Description = "The pin's name", HelpName = "NAME", CustomParser = r => ValueParsers.ParseName(r) };

    private static Command Pin(ActionSetter setAction)
    {
        var name = PinName();
        var endpoint = new Argument<Endpoint>("ENDPOINT") { Description = "The endpoint to keep connected", HelpName = "ENDPOINT", CustomParser = ValueParsers.ParseEndpoint };
        var blessings = CommonOptions.Blessings("Accept the remote only if a valid blessing of it matches PATTERN (repeatable; default the silo's FlowOrleans:Trust:DialPatterns)");
        var channelTimeout = new Option<TimeSpan?>("--channel-timeout")
        {
            Description = "The connection's channel timeout; default the silo's",
            HelpName = "DURATION",
            CustomParser = r => ValueParsers.ParseDuration(r),
        };
        var command = new Command("pin", "Keep a connection to ENDPOINT up under NAME: one live silo holds it, another takes over when it leaves")
        {
            name, endpoint, blessings, channelTimeout,
        };
        setAction(command, async (verb, flows) =>
        {
            var pinName = verb.Get(name);
            var remote = verb.Get(endpoint).ToString();
            verb.Doing = $"pinning '{pinName}' to {remote}";
            var state = PinView.From(await flows.PinAsync(pinName, remote, verb.Get(blessings) ?? [], verb.Get(channelTimeout) ?? default, verb.CancellationToken)
                .ConfigureAwait(false));
            PrintPin(verb.Output, state);
            if (state.Status == PinStatus.Failed)
            {
                throw new CliFailure(ExitCode.Unreachable,
                    $"pin '{pinName}' to {remote} is not up ({state.LastError}); the cluster keeps retrying it; 'flowctl cluster unpin {pinName}' removes it");
            }

            return 0;
        }, owned: true);
        return command;
    }

    private static void PrintPin(CliOutput output, PinView pin)
    {
        if (output.Json)
        {
            output.JsonDocument(pin);
        }
        else
        {
            output.Line($"pin '{pin.Name}' -> {pin.Endpoint}: {pin.Status}{(pin.OwnerSilo is null ? "" : $", held by silo {pin.OwnerSilo}")}{(pin.LastError is null ? "" : $" ({pin.LastError})")}");
        }
    }

    private static Command Unpin(ActionSetter setAction)
    {
        var name = PinName();
        var command = new Command("unpin", "Remove the pin NAME from every silo (nothing happens if there is none)") { name };
        setAction(command, async (verb, flows) =>
        {
            var pinName = verb.Get(name);
            verb.Doing = $"unpinning '{pinName}'";
            await flows.UnpinAsync(pinName, verb.CancellationToken).ConfigureAwait(false);
            if (verb.Output.Json)
            {
                verb.Output.JsonDocument(new { name = pinName, unpinned = true });
            }
            else
            {
                verb.Output.Line($"unpinned '{pinName}'");
            }

            return 0;
        }, owned: true);
        return command;
    }

    private static Command Dial(ActionSetter setAction)
    {
        var endpoint = new Argument<Endpoint>("ENDPOINT") { Description = "The endpoint a silo dials", HelpName = "ENDPOINT", CustomParser = ValueParsers.ParseEndpoint };
        var silo = new Option<string?>("--silo") { Description = "Dial through the silo with this key (cluster status lists them); default a random active silo", HelpName = "KEY" };
        var blessings = CommonOptions.Blessings("Dial only a remote with a valid blessing matching PATTERN (repeatable; default the silo's FlowOrleans:Trust:DialPatterns)");
        var payload = new PayloadOptions();
        var command = new Command("dial", "Dial ENDPOINT through a silo, send a message (or a file, or random bytes) and print or check the echo") { endpoint, silo, blessings };
        payload.AddTo(command);
        setAction(command, async (verb, flows) =>
        {
            var remote = verb.Get(endpoint).ToString();
            var data = await payload.ResolveAsync(verb).ConfigureAwait(false);
            var silos = await flows.GetSilosAsync(verb.CancellationToken).ConfigureAwait(false);
            if (silos.Count == 0)
            {
                throw new CliFailure(ExitCode.ClusterUnavailable, "the cluster has no active silo; expected at least one running silo");
            }

            var siloKey = verb.Get(silo);
            verb.Doing = $"dialing {remote} through the cluster";
            ClusterFlowStream flow;
            try
            {
                flow = await flows.DialAsync(remote, new FlowDialOptions { SiloKey = siloKey, BlessingPatterns = verb.Get(blessings) ?? [] }, verb.CancellationToken)
                    .ConfigureAwait(false);
            }
            catch (FlowOrleans.Transport.FlowException e) when (siloKey is not null && Failures.Classify(e.Code) == ExitCode.Refused)
            {
                // The cluster places a silo's transport grain only on that silo: another key is refused there.
                throw new CliFailure(ExitCode.Refused, $"--silo '{siloKey}' was refused by the cluster ({e.Message}); expected one of the active silos {string.Join(", ", silos)}", e);
            }

            await using var _ = flow.ConfigureAwait(false);
            verb.Doing = $"sending {data.Description} to {remote} through silo {flow.Handle.SiloKey}";
            var result = await TransferProgress.RunAsync(verb.Output, data, (sent, received) =>
                EchoTransfer.RunAsync(flow, flow.CompleteWritesAsync, data, sent, received, verb.CancellationToken)).ConfigureAwait(false);
            var remoteEndpoint = flow.Handle.RemoteEndpoint;
            return DialReport.Print(verb, new PeerInfo(remoteEndpoint.ToString(), remoteEndpoint.RoutingId.ToString(), flow.Handle.RemoteBlessingNames), data, result, flow.Handle.SiloKey);
        });
        return command;
    }

    private static Command Accept(ActionSetter setAction)
    {
        var name = new Option<string>("--name")
        {
            Description = "The listening name (FlowOrleans:ListenName of the silos)",
            HelpName = "NAME",
            DefaultValueFactory = _ => FlowStreamNames.DefaultListenName,
            CustomParser = r => ValueParsers.ParseName(r),
        };
        var print = new Option<bool>("--print") { Description = "Print what each flow sends (as text) instead of echoing it" };
        var count = new Option<int?>("--count") { Description = "Stop after N flows; default run until Ctrl+C", HelpName = "N", CustomParser = r => ValueParsers.Int(1, int.MaxValue)(r) };
        var command = new Command("accept", "Accept the flows peers open to the cluster's endpoints, and echo or print them") { name, print, count };
        setAction(command, async (verb, flows) =>
        {
            var listenName = verb.Get(name);
            await using var acceptor = await flows.ListenAsync(listenName).ConfigureAwait(false);
            if (verb.Output.Json)
            {
                verb.Output.JsonLine(new { @event = "accepting", name = listenName });
            }
            else
            {
                verb.Output.Line($"accepting flows on '{listenName}'; Ctrl+C stops");
            }

            verb.Doing = $"accepting flows on '{listenName}'";
            var handlers = new List<Task>();
            for (var accepted = 0; verb.Get(count) is not { } limit || accepted < limit; accepted++)
            {
                var flow = await acceptor.AcceptAsync(verb.CancellationToken).ConfigureAwait(false);
                handlers.RemoveAll(h => h.IsCompleted);
                handlers.Add(HandleAsync(flow, verb.Get(print), verb.Output, verb.CancellationToken));
            }

            await Task.WhenAll(handlers).ConfigureAwait(false);
            return 0;
        }, server: true, owned: true);
        return command;
    }

    private static async Task HandleAsync(ClusterFlowStream flow, bool print, CliOutput output, CancellationToken cancellationToken)
    {
        var handle = flow.Handle;
        try
        {
            await using (flow.ConfigureAwait(false))
            {
                await ServeAsync(flow, handle, print, output, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is FlowOrleans.Transport.FlowException or IOException or Orleans.Runtime.OrleansException)
        {
            // One broken flow does not stop the acceptor; it is reported and the next one is served.
            await output.Error.WriteLineAsync($"flowctl cluster accept: the flow from {handle.RemoteEndpoint} failed: {Failures.OneLine(e.Message)}").ConfigureAwait(false);
        }
    }

    private static async Task ServeAsync(ClusterFlowStream flow, FlowHandle handle, bool print, CliOutput output, CancellationToken cancellationToken)
    {
        {
            if (print)
            {
                using var reader = new StreamReader(flow, Encoding.UTF8, leaveOpen: true);
                var text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
                if (output.Json)
                {
                    output.JsonLine(new { @event = "received", silo = handle.SiloKey, remoteEndpoint = handle.RemoteEndpoint, remoteBlessings = handle.RemoteBlessingNames, text });
                }
                else
                {
                    output.Line($"flow from {PeerInfo.NamesOf(handle.RemoteBlessingNames)} at {handle.RemoteEndpoint} via silo {handle.SiloKey}:");
                    output.Line(text);
                }

                return;
            }

            var bytes = await Echo.RunAsync(flow, flow.CompleteWritesAsync, cancellationToken).ConfigureAwait(false);
            if (output.Json)
            {
                output.JsonLine(new { @event = "echoed", silo = handle.SiloKey, remoteEndpoint = handle.RemoteEndpoint, remoteBlessings = handle.RemoteBlessingNames, bytes });
            }
            else
            {
                output.Line($"echoed {bytes} bytes to {PeerInfo.NamesOf(handle.RemoteBlessingNames)} at {handle.RemoteEndpoint} via silo {handle.SiloKey}");
            }
        }
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>An age as people read it: seconds under two minutes, then minutes, hours, days.</summary>
    private static string Age(double seconds) => TimeSpan.FromSeconds(seconds) switch
    {
        { TotalSeconds: < 120 } t => string.Create(CultureInfo.InvariantCulture, $"{t.TotalSeconds:F0} s"),
        { TotalMinutes: < 120 } t => string.Create(CultureInfo.InvariantCulture, $"{t.TotalMinutes:F0} min"),
        { TotalHours: < 48 } t => string.Create(CultureInfo.InvariantCulture, $"{t.TotalHours:F0} h"),
        var t => string.Create(CultureInfo.InvariantCulture, $"{t.TotalDays:F0} d"),
    };
}
