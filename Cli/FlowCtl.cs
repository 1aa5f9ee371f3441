using FlowOrleans.Transport;
using FlowOrleans.Transport.Endpoints;
using FlowOrleans.Transport.Flows;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Proxy;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Cli;

/// <summary>
/// <c>flowctl</c>: talk to flows from a shell with nothing but the Transport library.
/// <c>serve</c> listens (directly or through a proxy) and echoes every accepted flow; <c>dial</c> sends text (or stdin)
/// over a new flow and prints the answer; <c>proxy</c> runs a proxy server. Each command is one plain
/// <see cref="FlowManager"/> (or <see cref="ProxyServer"/>): the two-program example of the README.
/// </summary>
internal static class FlowCtl
{
    private const string Usage = """
        usage:
          flowctl serve [--listen PROTOCOL/ADDRESS]... [--proxy ENDPOINT]
                                                         listen (default tcp/127.0.0.1:0, none with --proxy) or
                                                         register with a proxy, and echo every flow
          flowctl dial ENDPOINT [--message TEXT]         open a flow, send TEXT (or stdin), print the reply
          flowctl proxy [--listen PROTOCOL/ADDRESS]...   run a proxy server (default tcp/127.0.0.1:0)
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        try
        {
            return args switch
            {
                ["serve", .. var rest, "--proxy", var proxy] => await ServeAsync(ParseListen(rest, defaultToLoopback: false), output, cancellationToken, Endpoint.Parse(proxy))
                    .ConfigureAwait(false),
                ["serve", .. var rest] => await ServeAsync(ParseListen(rest), output, cancellationToken).ConfigureAwait(false),
                ["proxy", .. var rest] => await ProxyAsync(ParseListen(rest), output, cancellationToken).ConfigureAwait(false),
                ["dial", var endpoint, .. var rest] => await DialAsync(Endpoint.Parse(endpoint), ParseMessage(rest), output, cancellationToken)
                    .ConfigureAwait(false),
                _ => Fail(error, Usage),
            };
        }
        catch (FlowException e)
        {
            return Fail(error, $"flowctl: {e.Code}: {e.Message}");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return 0;
        }
    }

    /// <summary>Listens on every address (and through <paramref name="proxy"/>) and echoes each accepted flow until cancelled.</summary>
    internal static async Task<int> ServeAsync(
        IReadOnlyList<ListenAddress> addresses, TextWriter output, CancellationToken cancellationToken, Endpoint? proxy = null)
    {
        await using var manager = new FlowManager();
        foreach (var (protocol, address) in addresses)
        {
            var listener = await manager.ListenAsync(protocol, address, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"listening on {listener.Endpoint}").ConfigureAwait(false);
        }

        if (proxy is not null)
        {
            var listener = await manager.ProxyListenAsync("proxy", proxy, PeerAuthorizers.AllowEveryone(manager.Principal), cancellationToken)
                .ConfigureAwait(false);
            if (manager.Status.ProxyErrors.GetValueOrDefault("proxy") is { } error)
            {
                throw error;
            }

            await output.WriteLineAsync($"listening through the proxy on {listener.Endpoint}").ConfigureAwait(false);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        while (!cancellationToken.IsCancellationRequested)
        {
            var flow = await manager.AcceptAsync(cancellationToken).ConfigureAwait(false);
            _ = EchoAsync(flow);
        }

        return 0;
    }

    private static async Task EchoAsync(IFlow flow)
    {
        await using (flow.ConfigureAwait(false))
        {
            try
            {
                var buffer = new byte[64 * 1024];
                int read;
                while ((read = await flow.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                {
                    await flow.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                }
            }
            catch (FlowException)
            {
                // The peer went away mid-echo; nothing to answer.
            }
        }
    }

    /// <summary>Opens one flow to <paramref name="server"/>, sends <paramref name="message"/>, prints what comes back.</summary>
    internal static async Task<int> DialAsync(Endpoint server, string message, TextWriter output, CancellationToken cancellationToken)
    {
        // A dial-only manager: the null routing ID means nobody can open flows back to this program.
        await using var manager = new FlowManager(new FlowManagerOptions { RoutingId = RoutingId.Null });
        var authorizer = PeerAuthorizers.AllowEveryone(manager.Principal);
        await using var flow = await manager.DialAsync(server, authorizer, cancellationToken: cancellationToken).ConfigureAwait(false);
        await flow.WriteAsync(System.Text.Encoding.UTF8.GetBytes(message), cancellationToken).ConfigureAwait(false);
        await flow.CloseWriteAsync(cancellationToken).ConfigureAwait(false);
        using var reply = new StreamReader(flow.AsStream(), leaveOpen: true);
        await output.WriteLineAsync($"peer {string.Join(",", flow.RemoteBlessings.Names)} at {flow.RemoteEndpoint.RoutingId} answered:").ConfigureAwait(false);
        await output.WriteLineAsync(await reply.ReadToEndAsync(cancellationToken).ConfigureAwait(false)).ConfigureAwait(false);
        return 0;
    }

    /// <summary>Runs a proxy server on every address until cancelled.</summary>
    internal static async Task<int> ProxyAsync(IReadOnlyList<ListenAddress> addresses, TextWriter output, CancellationToken cancellationToken)
    {
        await using var proxy = new ProxyServer();
        foreach (var (protocol, address) in addresses)
        {
            var endpoint = await proxy.ListenAsync(protocol, address, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"proxy listening on {endpoint}").ConfigureAwait(false);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
        return 0;
    }

    private static List<ListenAddress> ParseListen(string[] args, bool defaultToLoopback = true)
    {
        var addresses = new List<ListenAddress>();
        for (var i = 0; i < args.Length; i += 2)
        {
            if (args[i] != "--listen" || i + 1 >= args.Length || !ListenAddress.TryParse(args[i + 1], out var address))
            {
                throw new FlowException(FlowErrorCode.BadArg, $"Expected --listen PROTOCOL/ADDRESS, got '{string.Join(' ', args)}'.");
            }

            addresses.Add(address);
        }

        return addresses.Count > 0 || !defaultToLoopback ? addresses : [new ListenAddress("tcp", "127.0.0.1:0")];
    }

    private static string ParseMessage(string[] args) => args switch
    {
        [] => Console.In.ReadToEnd(),
        ["--message", var text] => text,
        _ => throw new FlowException(FlowErrorCode.BadArg, $"Expected --message TEXT, got '{string.Join(' ', args)}'."),
    };

    private static int Fail(TextWriter error, string message)
    {
        error.WriteLine(message);
        return 2;
    }
}
