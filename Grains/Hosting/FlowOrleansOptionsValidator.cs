using FlowOrleans.Grains.Security;
using FlowOrleans.Transport;
using FlowOrleans.Transport.Manager;
using FlowOrleans.Transport.Security;
using Microsoft.Extensions.Options;

namespace FlowOrleans.Grains.Hosting;

/// <summary>Rejects flow transport settings a silo could not start with, before it starts.</summary>
internal sealed class FlowOrleansOptionsValidator : IValidateOptions<FlowOrleansOptions>
{
    // Each failure names the setting as configuration writes it, its value and what is expected.
    private const string Section = FlowOrleansOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, FlowOrleansOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        foreach (var listen in options.Listen)
        {
            if (!ListenAddress.TryParse(listen, out _))
            {
                failures.Add($"{Section}:Listen '{listen}' is not valid; expected protocol/address such as tcp/127.0.0.1:0.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.ListenName))
        {
            failures.Add($"{Section}:ListenName '{options.ListenName}' is empty; expected a name.");
        }

        if (string.IsNullOrWhiteSpace(options.StreamProvider))
        {
            failures.Add($"{Section}:StreamProvider '{options.StreamProvider}' is empty; expected a stream provider's name.");
        }

        failures.AddRange(TrustProblems(options.Trust));
        failures.AddRange(RequestRule.Problems(options.Policy.Dial, FlowOrleansOptions.PolicySectionName + ":Dial"));
        failures.AddRange(RequestRule.Problems(options.Policy.Listen, FlowOrleansOptions.PolicySectionName + ":Listen"));
        if (options.ListenNameLease < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{Section}:ListenNameLease '{options.ListenNameLease}' is too short; expected at least 00:00:01 (acceptors renew at a third of it).");
        }

        if (options.ReadChunkSize is < 1 or > FlowOrleansOptions.MaxReadChunkSize)
        {
            failures.Add($"{Section}:ReadChunkSize '{options.ReadChunkSize}' is out of range; expected 1 to {FlowOrleansOptions.MaxReadChunkSize}.");
        }

        if (options.ReadAheadChunks < 1)
        {
            failures.Add($"{Section}:ReadAheadChunks '{options.ReadAheadChunks}' is not positive; expected at least 1.");
        }

        if (options.ClaimTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:ClaimTimeout '{options.ClaimTimeout}' is not positive; expected a positive duration such as 00:00:30.");
        }

        if (options.PinCheckPeriod <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:PinCheckPeriod '{options.PinCheckPeriod}' is not positive; expected a positive duration such as 00:00:05.");
        }

        if (options.StrayPinSweepPeriod <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:StrayPinSweepPeriod '{options.StrayPinSweepPeriod}' is not positive; expected a positive duration such as 00:00:10.");
        }

        if (options.HandoverTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:HandoverTimeout '{options.HandoverTimeout}' is not positive; expected a positive duration such as 00:00:20.");
        }

        if (options.PinReminderPeriod <= TimeSpan.Zero)
        {
            failures.Add($"{Section}:PinReminderPeriod '{options.PinReminderPeriod}' is not positive; expected a positive duration, at least the silo's ReminderOptions.MinimumReminderPeriod.");
        }

        if (options.FlowLeaseTimeout < TimeSpan.FromSeconds(1))
        {
            failures.Add($"{Section}:FlowLeaseTimeout '{options.FlowLeaseTimeout}' is too short; expected at least 00:00:01 (clients renew at a third of it).");
        }

        if (options.DefaultChannelTimeout < TimeSpan.Zero)
        {
            failures.Add($"{Section}:DefaultChannelTimeout '{options.DefaultChannelTimeout}' is negative; expected zero (the connection's default) or a positive duration.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static IEnumerable<string> TrustProblems(SiloTrustOptions trust)
    {
        const string Section = FlowOrleansOptions.TrustSectionName;
        if (string.IsNullOrWhiteSpace(trust.BlessingName) || !BlessingPattern.TryParse(trust.BlessingName, out _))
        {
            yield return $"{Section}:BlessingName '{trust.BlessingName}' is not a blessing name.";
        }

        foreach (var (name, patterns) in new[] { ("AcceptPatterns", trust.AcceptPatterns), ("DialPatterns", trust.DialPatterns) })
        {
            foreach (var pattern in patterns.Where(p => !BlessingPattern.TryParse(p, out _)))
            {
                yield return $"{Section}:{name}: '{pattern}' is not a blessing pattern.";
            }
        }

        if (trust.AcceptPatterns.Count == 0 && !trust.AllowEveryone)
        {
            yield return $"{Section}:AcceptPatterns is empty: name the blessing patterns peers that dial the silo must present, " +
                $"or set {Section}:AllowEveryone=true to accept any peer that authenticates (development only).";
        }

        foreach (var root in trust.Roots)
        {
            string? problem = null;
            try
            {
                using var principal = Principal.CreateInMemory();
                SiloPrincipal.AddRoots(principal, [root]);
            }
            catch (Exception e) when (e is FlowException)
            {
                problem = e.Message;
            }

            if (problem is not null)
            {
                yield return $"{Section}:Roots: {problem}";
            }
        }
    }
}
