using System.CommandLine;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;

namespace FlowOrleans.Silo.CommandLine;

/// <summary>
/// <c>echo-server [ADDRESS]</c>: a plain FlowManager outside the cluster that echoes every flow, for trying a silo by
/// hand (flowctl serve does the same and more).
/// </summary>
internal static class EchoServerCommand
{
    private const string DefaultAddress = "tcp/127.0.0.1:0";

    public static Command Create()
    {
        var address = new Argument<ListenAddress>("ADDRESS")
        {
            Description = $"Where to listen, as PROTOCOL/ADDRESS; default {DefaultAddress}",
            Arity = ArgumentArity.ZeroOrOne,
            DefaultValueFactory = _ => Transport.Manager.ListenAddress.Parse(DefaultAddress),
            CustomParser = result =>
            {
                try
                {
                    return StartChecks.ListenAddress(result.Argument.Name, result.Tokens.Single().Value);
                }
                catch (SiloFailure failure)
                {
                    result.AddError(failure.Message);
                    return default;
                }
            },
        };
        var command = new Command("echo-server", "A plain FlowManager outside the cluster that echoes every flow; prints its endpoint") { address };
        SiloCommandLine.SetAction(command, (parse, cancellationToken) => RunAsync(parse.GetValue(address), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(ListenAddress address, CancellationToken cancellationToken)
    {
        var principal = Principal.CreateInMemory();
        principal.DefaultBlessings = principal.BlessSelf("echo-server");
        await using var manager = new FlowManager(new FlowManagerOptions { Principal = principal });
        IFlowListener listener;
        try
        {
            listener = await manager.ListenAsync(address.Protocol, address.Address, cancellationToken);
        }
        catch (FlowException e)
        {
            throw new SiloFailure(e.Code == FlowErrorCode.BadArg ? SiloExitCode.BadSetting : SiloExitCode.AddressInUse,
                $"ADDRESS '{address}' could not be listened on ({StartFailures.OneLine(e.Message)}); expected a free address of this host", e);
        }

        Console.WriteLine($"echo server listens on {listener.Endpoint}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            stop.Cancel();
        };
        try
        {
            while (true)
            {
                var flow = await manager.AcceptAsync(stop.Token);
                _ = EchoAsync(flow.AsStream(), flow.RemoteEndpoint.ToString());
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return (int)SiloExitCode.Success;
        }
    }

    private static async Task EchoAsync(Stream flow, string remote)
    {
        try
        {
            await using (flow)
            {
                using var received = new MemoryStream();
                await flow.CopyToAsync(received);
                Console.WriteLine($"echoing {received.Length} bytes to {remote}");
                await flow.WriteAsync(received.ToArray());
                // Disposing the flow closes its write side gracefully; the echoed bytes are delivered first.
            }
        }
        catch (Exception e) when (e is FlowException or IOException)
        {
            // One broken flow does not stop the server.
            await Console.Error.WriteLineAsync($"{SiloCommandLine.ProgramName} echo-server: the flow from {remote} failed: {StartFailures.OneLine(e.Message)}");
        }
    }
}
