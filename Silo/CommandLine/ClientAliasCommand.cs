using System.CommandLine;
using System.Globalization;
using FlowOrleans.Cli;
using FlowOrleans.Cli.CommandLine;
using Microsoft.Extensions.Configuration;

namespace FlowOrleans.Silo.CommandLine;

/// <summary>
/// <c>client status|dial|accept</c>: the silo's former Orleans client, kept as a thin alias of flowctl's cluster verbs
/// (<c>flowctl cluster status|dial|accept</c>), which it runs with its options translated: <c>--gateway-port N</c> is
/// <c>--gateway 127.0.0.1:N</c>, the <c>--Silo:Tls:*</c> settings are <c>--tls-certificate</c>, <c>--tls-key</c> and
/// <c>--tls-ca</c>, <c>dial ENDPOINT TEXT PATTERN...</c> is <c>dial ENDPOINT --message TEXT --blessing PATTERN...</c>.
/// Output and exit codes are flowctl's.
/// </summary>
internal static class ClientAliasCommand
{
    public static Command Create()
    {
        var gatewayPort = new Option<int>("--gateway-port")
        {
            Description = "The gateway port of a silo on this machine (Silo:GatewayPort)",
            HelpName = "PORT",
            Recursive = true,
            DefaultValueFactory = _ => 30000,
            CustomParser = r => ValueParsers.Int(1, 65535)(r),
        };
        var clusterId = new Option<string>("--cluster-id") { Description = "The cluster's Silo:ClusterId", HelpName = "ID", Recursive = true, DefaultValueFactory = _ => "dev" };
        var serviceId = new Option<string>("--service-id") { Description = "The cluster's Silo:ServiceId", HelpName = "ID", Recursive = true, DefaultValueFactory = _ => "flow-orleans" };
        var command = new Command("client",
            "An Orleans client of a silo on this machine: flowctl's cluster verbs (flowctl cluster --help). Against mutual TLS it takes " +
            "--Silo:Tls:CertificatePath=client.pem --Silo:Tls:PrivateKeyPath=client.key --Silo:Tls:CaCertificatePath=ca.pem")
        {
            gatewayPort, clusterId, serviceId,
        };

        var endpoint = new Argument<string>("ENDPOINT") { Description = "The endpoint a silo dials" };
        var text = new Argument<string>("TEXT") { Description = "The text to send; the reply is printed" };
        var patterns = new Argument<string[]>("PATTERN") { Description = "Dial only a remote blessed so (any of them)", Arity = ArgumentArity.ZeroOrMore };
        var verbs = new (Command Verb, Func<ParseResult, string[]> Arguments)[]
        {
            (new Command("status", "Every silo's listeners, connections (with RTT) and pins"), _ => []),
            (new Command("dial", "Dial ENDPOINT through a silo, send TEXT and print the reply") { endpoint, text, patterns },
                parse => [parse.GetValue(endpoint)!, "--message", parse.GetValue(text)!, .. Patterns(parse.GetValue(patterns)).SelectMany(p => new[] { "--blessing", p })]),
            (new Command("accept", "Echo every flow peers open to the cluster's endpoints; Ctrl+C stops"), _ => []),
        };
        foreach (var (verb, arguments) in verbs)
        {
            // The --Silo:Tls:* settings are tokens the parser leaves alone (or, after dial's patterns, takes as patterns).
            verb.TreatUnmatchedTokensAsErrors = false;
            command.Add(verb);
            SiloCommandLine.SetAction(verb, (parse, cancellationToken) =>
            {
                var settings = parse.UnmatchedTokens.Concat(parse.GetResult(patterns) is null ? [] : Settings(parse.GetValue(patterns))).ToArray();
                string[] flowctl =
                [
                    "cluster", verb.Name,
                    "--gateway", "127.0.0.1:" + parse.GetValue(gatewayPort).ToString(CultureInfo.InvariantCulture),
                    "--cluster-id", parse.GetValue(clusterId)!, "--service-id", parse.GetValue(serviceId)!,
                    .. TlsOptions(settings), .. arguments(parse),
                ];
                return FlowCtl.RunAsync(
                    flowctl, Console.Out, Console.Error, Console.IsOutputRedirected ? ConsoleKind.Plain : ConsoleKind.Terminal, handleTermination: true, cancellationToken);
            });
        }

        return command;
    }

    private static IEnumerable<string> Patterns(string[]? values) => (values ?? []).Where(v => !v.StartsWith("--", StringComparison.Ordinal));

    private static IEnumerable<string> Settings(string[]? values) => (values ?? []).Where(v => v.StartsWith("--", StringComparison.Ordinal));

    /// <summary>flowctl's TLS options for the <c>--Silo:Tls:*</c> settings; anything else is <see cref="SiloExitCode.BadSetting"/>.</summary>
    private static string[] TlsOptions(string[] settings)
    {
        if (SettingTokens.FirstStray(settings) is { } stray ||
            (stray = settings.FirstOrDefault(s => s.StartsWith("--", StringComparison.Ordinal) && !s.StartsWith("--" + SiloTlsOptions.SectionName + ":", StringComparison.Ordinal))) is not null)
        {
            throw new SiloFailure(SiloExitCode.BadSetting,
                $"unknown argument '{stray}'; expected --gateway-port, --cluster-id, --service-id or the {SiloTlsOptions.SectionName}:* settings");
        }

        var tls = new ConfigurationBuilder().AddCommandLine(settings).Build().GetSection(SiloTlsOptions.SectionName).Get<SiloTlsOptions>() ?? new SiloTlsOptions();
        if (!tls.IsConfigured)
        {
            return [];
        }

        if (tls.Password is not null || tls.PrivateKeyPath is null || tls.CaCertificatePath is null)
        {
            throw new SiloFailure(SiloExitCode.BadSetting,
                $"{SiloTlsOptions.SectionName}:CertificatePath '{tls.CertificatePath}' needs {SiloTlsOptions.SectionName}:PrivateKeyPath and " +
                $"{SiloTlsOptions.SectionName}:CaCertificatePath; expected a PEM certificate, its PEM key and the authority's PEM certificate (no PFX)");
        }

        return ["--tls-certificate", tls.CertificatePath!, "--tls-key", tls.PrivateKeyPath, "--tls-ca", tls.CaCertificatePath];
    }
}
