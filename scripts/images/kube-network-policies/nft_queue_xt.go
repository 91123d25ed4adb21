// Added to a copy of github.com/google/nftables (package expr) when kube-network-policies is
// built (scripts/build/cni-binaries.sh); the copy's own Queue.marshal is renamed out of the way.
//
// Why: kube-network-policies hands packets to its userspace verdict loop with the nftables
// `queue` expression. Kernels built without CONFIG_NFT_QUEUE (ours) refuse that expression
// ("No such file or directory" when the rule is added) but do have the xtables NFQUEUE target
// (CONFIG_NETFILTER_XT_TARGET_NFQUEUE) and nft_compat, which runs it from an nftables rule:
// the same nfnetlink_queue, queue number and bypass flag. `nft list ruleset` prints the result
// as "queue num N bypass" too.
package expr

import (
	"encoding/binary"

	"github.com/google/nftables/xt"
)

func (e *Queue) marshal(fam byte) ([]byte, error) {
	total := e.Total
	if total == 0 {
		total = 1
	}
	// struct xt_NFQ_info_v3 { __u16 queuenum, queues_total, flags; }, padded to XT_ALIGN (8).
	// Its flags share the nft values: 0x1 bypass, 0x2 cpu fanout.
	info := make(xt.Unknown, 8)
	binary.NativeEndian.PutUint16(info[0:], e.Num)
	binary.NativeEndian.PutUint16(info[2:], total)
	binary.NativeEndian.PutUint16(info[4:], uint16(e.Flag&(QueueFlagBypass|QueueFlagFanout)))
	return (&Target{Name: "NFQUEUE", Rev: 3, Info: &info}).marshal(fam)
}
